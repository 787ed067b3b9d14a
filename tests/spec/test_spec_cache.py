"""The spec cache holds data only, sealed with a per-user key: a planted, corrupt or foreign
entry changes nothing, a change of taskform's code invalidates it, and no secret enters it."""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import shutil
import stat
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import pytest
from spec_cache_kit import UNKEEPABLE, VALID, VALID_OUTPUT, entry

from runner.address import Address, Selection
from runner.errors import SpecIssue
from runner.resource import Origin, Resource
from runner.spec import loadedcache, parsecache
from runner.spec.cachestore import CacheStore, user_key
from runner.spec.load import load_specs
from runner.spec.loaded import Loaded
from runner.spec.yamlsrc import parse_bytes
from runner.workspace import open_workspace

REPO = Path(__file__).resolve().parents[2]

INVALID = """
    apiVersion: taskform/v1
    kind: Pipeline
    metadata: {name: p}
    spec:
      steps:
        a: {value: {input: 1, inptu: 2}}
    """
INVALID_MESSAGE = ("Error: 1 error in the specs:\n  specs/main.yaml:6:27: spec.steps.a.value.inptu: "
                   "unknown key 'inptu'; expected one of: input\n")
GREETING = """
    apiVersion: taskform/v1
    kind: Pipeline
    metadata: {name: g}
    spec:
      steps:
        a: {value: {input: "{{ var.greeting }}"}}
    """



def entries(ws) -> list[Path]:
    """The spec files' entries (taskform.yaml's own entry is tests/spec/test_config_cache.py's)."""
    folder = ws.root / ".taskform" / "cache" / "specs"
    return sorted(p for p in folder.iterdir() if not p.name.endswith(".workspace.json")) \
        if folder.is_dir() else []


class Payload:
    """Unpickling this creates `marker`: proof that code ran."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (Path.touch, (self.marker,))


def old_pickle_name(spec: Path, display: str) -> str:
    """The name the pickle cache (cache version 6) gave a file in a workspace without variables."""
    parts = [spec.read_bytes(), display.encode(), b"{}", b"0.1.0", bytes([6])]
    return hashlib.sha256(b"\0".join(parts)).hexdigest() + ".pickle"


PARSES = {
    "nested": "a: {b: [1, 2, {c: d}], e: null}\nf: [[], {}]\n",
    "scalars": "i: 12\nf: 1.5\nneg: -0.0\nbig: 123456789012345678901234567890\nt: true\nn: ~\n"
               "s: '12'\ndate: 2024-01-02\nstamp: 2024-01-02T03:04:05Z\ninf: .inf\nkey: 1\n"
               "'1': one\n",
    "anchors": "base: &b {x: 1, y: [2, 3]}\nuse: *b\nmore: {<<: *b, z: 4}\nlist: [*b, *b]\n",
    "documents": "a: 1\n---\n---\n- x\n- {y: z}\n...\n",
    "unicode": "name: 'Zoë ☃'\n\"key ✓\": \"\\u00e9\"\nblock: |\n  two\n  lines\n",
    "scalar document": "just text\n",
}


@pytest.mark.parametrize("text", PARSES.values(), ids=PARSES.keys())
def test_a_cached_parse_is_the_parse(tmp_path, text):
    store = CacheStore(tmp_path / ".taskform" / "cache" / "specs", b"k" * 32)
    data = text.encode()
    docs, issues = parse_bytes(data, "specs/x.yaml")
    assert issues == []
    assert parsecache.find(store, data, "specs/x.yaml") is None
    assert parsecache.keep(store, data, docs)
    assert parsecache.find(store, data, "specs/x.yaml") == docs
    assert parsecache.find(store, data, "specs/y.yaml") == parse_bytes(data, "specs/y.yaml")[0]


def test_a_value_json_cannot_hold_is_not_kept(tmp_path):
    # the parser refuses `!!binary` and every other tag that makes such values; the cache
    # still refuses them itself, whatever a future parser lets through
    store = CacheStore(tmp_path / ".taskform" / "cache" / "specs", b"k" * 32)
    data = b"blob: x\n"
    docs, _ = parse_bytes(data, "x.yaml")
    docs[0].value["blob"] = b"hello"
    assert not parsecache.keep(store, data, docs)
    assert parsecache.find(store, data, "x.yaml") is None


def test_every_resource_field_survives_the_validated_layer(tmp_path):
    """Fails when Resource gains a field that the layer does not carry yet."""
    settings = {"s": "t", "n": [1, 2.5, None, True, {"deep": []}]}
    values = dict(address=Address(("pipeline", "p", "a")), kind="value", settings=settings,
                  origin=Origin("specs/x.yaml", 3, 5),
                  depends_on=(Address(("pipeline", "p", "b")), Address(("pool",), (2, "k"))),
                  when="var.on", retries=3, retry_delay=2.5, timeout=9.0, labels={"team": "x"},
                  prevent_destroy=True, pipeline="p", parent=Address(("pipeline", "p")),
                  expansion_deferred="waits for b",
                  expansion_reads=(("task", "dir:1"), ("task/a.patch", "file:2")))
    assert set(values) == {f.name for f in fields(Resource)}
    place = SpecIssue("specs/x.yaml", 7, 9, "spec.x", "")
    loaded = Loaded(resources=[Resource(**values)], references=[(values["address"],
                    Address(("task",), ("t",)), place)], document=("Pipeline", "p"),
                    name_place=place, variables={"on"},
                    selections=[(values["address"], Selection("droplet", (("region", "lab"),),
                                                              ("pool", "labels")), place)])
    assert set(vars(loaded)) == {"resources", "issues", "references", "document", "name_place",
                                 "variables", "selections"}
    store = CacheStore(tmp_path / "specs", b"k" * 32)
    assert loadedcache.keep(store, b"data", "specs/x.yaml", {"on": True}, set(), [loaded])
    found, analysis = loadedcache.find(store, b"data", "specs/x.yaml", {"on": True}, set())
    assert (found, analysis) == ([loaded], [["{{ var.on }}", ["on"], [], []]])
    made = [found[0].resources[0], found[0].resources[0].origin, found[0].references[0][2]]
    assert [set(vars(m)) for m in made] == [{f.name for f in fields(m)} for m in made]
    assert loadedcache.find(store, b"data", "specs/x.yaml", {"on": 1}, set()) is None
    assert loadedcache.find(store, b"data", "specs/x.yaml", {}, set()) is None


def test_a_rendered_value_json_would_change_is_never_kept_as_loaded(ws, user_cache):
    ws.spec(UNKEEPABLE)
    for _ in range(2):
        specs = load_specs(open_workspace(ws.root))
        assert specs.resources[Address(("pipeline", "p", "a"))].settings == {"input": {1: "one"}}
    # the settings layer keeps a digest of its repr ({1: ...} and {"1": ...} differ), no value
    assert sorted(p.name.split(".")[1] for p in entries(ws)) == ["parse", "settings"]


def test_a_variable_change_is_seen_and_its_value_cached_per_value(ws, user_cache):
    ws.write("taskform.yaml", "variables: {greeting: {value: hello}}\n")
    ws.spec(GREETING)
    address = Address(("pipeline", "g", "a"))
    for greeting in ("hi", "bye", "hi", None, None):
        overrides = {"greeting": greeting} if greeting else {}
        specs = load_specs(open_workspace(ws.root, overrides=overrides))
        assert specs.resources[address].settings == {"input": greeting or "hello"}
    assert sorted(p.name.split(".")[1] for p in entries(ws)) == \
        ["loaded", "parse", "settings", "splice", "workspace-analyses", "workspace-desired"]


def test_a_file_with_parse_errors_is_not_cached(ws, user_cache):
    ws.spec(VALID.replace("a: {value: {input: 1}}", "a: {value: {input: 1, input: 3}}"))
    for _ in range(2):
        result = ws.cli("validate")
        assert result.output == ("Error: 1 error in the specs:\n  specs/main.yaml:6:27: "
                                 "spec.steps.a.value.input: duplicate key 'input' (first defined "
                                 "at line 6)\n")
    assert entries(ws) == []


def test_an_invalid_file_keeps_only_its_parse(ws, user_cache):
    spec = ws.spec(INVALID)
    for _ in range(2):
        result = ws.cli("validate")
        assert (result.exit_code, result.output) == (1, INVALID_MESSAGE)
    assert entries(ws) == [entry(ws, "parse", spec)]


def test_planted_pickle_runs_no_code(ws, user_cache, tmp_path):
    spec = ws.spec(VALID)
    marker = tmp_path / "code-ran"
    evil = pickle.dumps(Payload(marker))
    folder = ws.root / ".taskform" / "cache" / "specs"
    folder.mkdir(parents=True)
    planted = [folder / old_pickle_name(spec, "specs/main.yaml"), entry(ws, "parse", spec),
               entry(ws, "loaded", spec)]
    for path in planted:
        path.write_bytes(evil)
    for _ in range(2):
        proc = ws.run("validate")
        assert (proc.returncode, proc.stdout, proc.stderr) == (0, VALID_OUTPUT, "")
    assert not marker.exists()
    assert planted[2].read_bytes() != evil  # replaced by a genuine entry
    pickle.loads(evil)  # the payload is live: unpickled, it would have left the marker
    assert marker.exists()


def test_planted_entries_cannot_make_an_invalid_spec_valid(ws, user_cache, tmp_path):
    """The attacker knows the algorithm and writes well-formed entries claiming that the
    invalid file parses and validates like a valid one; without the user's key they read as
    missing."""
    spec = ws.spec(INVALID)
    data = spec.read_bytes()
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "specs").mkdir(parents=True)
    (elsewhere / "taskform.yaml").write_text("")
    valid = (elsewhere / "specs" / "main.yaml")
    valid.write_text(VALID.replace("\n    ", "\n"))
    valid_docs = parse_bytes(valid.read_bytes(), "specs/main.yaml")[0]
    valid_resources = list(load_specs(open_workspace(elsewhere)).resources.values())
    assert len(valid_resources) == 2
    attacker = CacheStore(ws.root / ".taskform" / "cache" / "specs", b"attacker key".ljust(32))
    assert parsecache.keep(attacker, data, valid_docs)
    assert loadedcache.keep(attacker, data, "specs/main.yaml", {}, set(),
                            [Loaded(resources=valid_resources)])
    assert loadedcache.find(attacker, data, "specs/main.yaml", {}, set()) == \
        ([Loaded(resources=valid_resources)], [])  # what the attacker's own key would accept
    result = ws.cli("validate")
    assert (result.exit_code, result.output) == (1, INVALID_MESSAGE)


DAMAGE = {"truncate": lambda b: b[: len(b) // 2],
          "flip a byte": lambda b: b[:-3] + bytes([b[-3] ^ 1]) + b[-2:],
          "empty": lambda b: b"",
          "tag only": lambda b: b[:65]}


@pytest.mark.parametrize("layer", ["loaded", "parse"])
@pytest.mark.parametrize("damage", DAMAGE.values(), ids=DAMAGE.keys())
def test_a_damaged_entry_is_ignored_and_replaced(ws, user_cache, layer, damage):
    ws.write("taskform.yaml", "variables: {greeting: {value: hello}}\n")
    spec = ws.spec(GREETING)  # reads a variable: both layers are kept
    assert ws.cli("validate").exit_code == 0
    genuine = {p: p.read_bytes() for p in entries(ws)}
    damaged = entry(ws, layer, spec)
    assert damaged in genuine
    damaged.write_bytes(damage(genuine[damaged]))
    for workspace_entry in ws.root.glob(".taskform/cache/specs/*.workspace-desired.json"):
        workspace_entry.unlink()  # so that the file's own layers are read
    if layer == "parse":
        entry(ws, "loaded", spec).unlink()  # so that the parse layer is read
    result = ws.cli("validate")
    assert (result.exit_code, result.output) == (0, "Valid: 1 document, 1 resource in 1 file.\n")
    assert {p: p.read_bytes() for p in entries(ws)} == genuine


def test_an_entry_renamed_to_another_file_is_not_used(ws, user_cache):
    """Genuine entries of a valid file, copied under the invalid file's entry names."""
    valid = ws.spec(VALID)
    assert ws.cli("validate").exit_code == 0
    genuine = entry(ws, "loaded", valid).read_bytes()
    invalid = ws.spec(INVALID)
    entry(ws, "loaded", invalid).write_bytes(genuine)
    entry(ws, "parse", invalid).write_bytes(genuine)
    result = ws.cli("validate")
    assert (result.exit_code, result.output) == (1, INVALID_MESSAGE)


def test_a_planted_symlink_is_replaced_not_written_through(ws, user_cache, tmp_path):
    spec = ws.spec(VALID)
    outside = tmp_path / "outside.txt"
    outside.write_text("keep me")
    planted = entry(ws, "loaded", spec)
    planted.parent.mkdir(parents=True)
    planted.symlink_to(outside)
    assert ws.cli("validate").exit_code == 0
    assert outside.read_text() == "keep me"
    assert not planted.is_symlink() and planted.stat().st_size > 0


def test_a_planted_fifo_does_not_hang_validate(ws, user_cache):
    spec = ws.spec(VALID)
    planted = entry(ws, "loaded", spec)
    planted.parent.mkdir(parents=True)
    os.mkfifo(planted)
    proc = ws.run("validate", timeout=60)
    assert (proc.returncode, proc.stdout) == (0, VALID_OUTPUT)


def test_a_linked_cache_folder_is_not_written_to(ws, user_cache, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (ws.root / ".taskform" / "cache").mkdir(parents=True)
    (ws.root / ".taskform" / "cache" / "specs").symlink_to(elsewhere)
    ws.spec(VALID)
    assert ws.cli("validate").exit_code == 0
    assert list(elsewhere.iterdir()) == []


def test_cache_files_and_folders_are_private(ws, user_cache):
    ws.write("taskform.yaml", "variables: {greeting: {value: hello}}\n")
    ws.spec(GREETING)
    assert ws.cli("validate").exit_code == 0
    cache = ws.root / ".taskform" / "cache"
    assert len(entries(ws)) == 6  # loaded, parse, settings, splice, the workspace's two
    modes = {p: stat.S_IMODE(p.stat().st_mode) for p in
             [cache, cache / "specs", user_cache / "taskform"]}
    modes.update({p: stat.S_IMODE(p.stat().st_mode) for p in
                  [*entries(ws), user_cache / "taskform" / "key"]})
    assert list(modes.values()) == [0o700] * 3 + [0o600] * 7


def test_a_key_others_can_read_is_replaced(user_cache):
    folder = user_cache / "taskform"
    key = user_key(folder)
    assert key is not None and len(key) == 32
    assert user_key(folder) == key
    (folder / "key").chmod(0o644)
    fresh = user_key(folder)
    assert fresh is not None and fresh != key
    assert stat.S_IMODE((folder / "key").stat().st_mode) == 0o600


def test_no_cache_when_the_key_would_live_in_the_workspace(ws, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(ws.root / "cache-home"))
    ws.spec(VALID)
    assert ws.cli("validate").exit_code == 0
    assert entries(ws) == []
    assert not (ws.root / "cache-home").exists()


def test_runner_has_no_object_constructing_serialiser():
    found = [f"{path.relative_to(REPO)}:{n}" for path in sorted((REPO / "runner").rglob("*.py"))
             for n, line in enumerate(path.read_text().splitlines(), 1)
             if any(word in line for word in ("pickle", "marshal", "shelve", "dill",
                                                "yaml.load(", "unsafe_load", "FullLoader"))]
    assert found == []


def test_a_changed_settings_model_is_seen_by_the_next_validate(ws, user_cache, tmp_path):
    """A second interpreter runs a copy of taskform whose `value` kind renamed its setting;
    its validate must not answer from the entries the first one wrote."""
    ws.spec(VALID)
    for _ in range(2):  # the second run reads what the first one cached
        proc = ws.run("validate")
        assert (proc.returncode, proc.stdout) == (0, VALID_OUTPUT)
    copy = tmp_path / "changed"
    shutil.copytree(REPO / "runner", copy / "runner",
                    ignore=shutil.ignore_patterns("__pycache__"))
    kind = copy / "runner" / "kinds" / "value.py"
    kind.write_text(kind.read_text().replace("    input: Any = None\n", "    given: Any = None\n"))
    env = {**os.environ, "PYTHONPATH": str(copy), "NO_COLOR": "1"}
    proc = subprocess.run([sys.executable, "-m", "runner", "-C", str(ws.root), "validate"],
                          capture_output=True, text=True, env=env, cwd=ws.root, timeout=120)
    assert (proc.returncode, proc.stderr) == (1, (
        "Error: 2 errors in the specs:\n"
        "  specs/main.yaml:6:17: spec.steps.a.value.input: unknown key 'input'; expected one "
        "of: given\n"
        "  specs/main.yaml:7:17: spec.steps.b.value.input: unknown key 'input'; expected one "
        "of: given\n"))
    proc = ws.run("validate")
    assert (proc.returncode, proc.stdout) == (0, VALID_OUTPUT)


def cache_files(ws, user_cache: Path) -> list[Path]:
    return [p for folder in (ws.root / ".taskform" / "cache", user_cache)
            for p in folder.rglob("*") if p.is_file()]


def test_a_secret_value_enters_no_cache_file(ws, user_cache):
    secret = "s3cr3t-token-value-8f2a"
    ws.write("taskform.yaml", """
        variables:
          token: {env: TF_TEST_TOKEN, secret: true}
          plain: {value: visible-value-31c}
        """)
    ws.spec("""
        apiVersion: taskform/v1
        kind: Pipeline
        metadata: {name: p}
        spec:
          steps:
            a: {value: {input: "{{ var.token }}"}}
        """)
    ws.spec(GREETING.replace("greeting", "plain"), name="plain.yaml")
    env = {"TF_TEST_TOKEN": secret}
    for command in ("validate", "plan", "validate"):
        assert ws.cli(command, env=env).exit_code == 0
    layers = sorted(p.name.split(".", 1)[1] for p in entries(ws))
    # none for the secret's file, not even a digest of what it renders
    assert layers == ["loaded.json", "parse.json", "parse.json", "settings.json", "splice.json"]
    found = {p.name.split(".")[1] for p in cache_files(ws, user_cache)
             if b"visible-value-31c" in p.read_bytes()}
    # what a variable renders is cached, and found by this scan; taskform.yaml's entry holds the
    # declarations as written there (never a value read from the environment)
    assert found == {"loaded", "workspace"}
    assert [p for p in cache_files(ws, user_cache) if secret.encode() in p.read_bytes()] == []


def test_an_entry_whose_variable_became_secret_is_removed(ws, user_cache):
    ws.write("taskform.yaml", "variables: {greeting: {value: soon-secret-77d}}\n")
    spec = ws.spec(GREETING)
    assert ws.cli("validate").exit_code == 0
    assert b"soon-secret-77d" in entry(ws, "loaded", spec).read_bytes()
    ws.write("taskform.yaml", "variables: {greeting: {value: soon-secret-77d, secret: true}}\n")
    assert ws.cli("validate").exit_code == 0
    assert not entry(ws, "loaded", spec).exists()
    assert [p for p in cache_files(ws, user_cache) if b"soon-secret-77d" in p.read_bytes()] == []


def test_entries_are_json(ws, user_cache):
    ws.write("taskform.yaml", "variables: {greeting: {value: hello}}\n")
    ws.spec(GREETING)
    assert ws.cli("validate").exit_code == 0
    for path in entries(ws):
        tag, payload = path.read_bytes().split(b"\n", 1)
        assert len(tag) == 64 and json.loads(payload)["entry"] == path.name


def test_an_install_without_sources_caches_nothing(ws, user_cache, monkeypatch):
    from runner.spec import cachestore

    assert cachestore.open_store(ws.root / ".taskform", ws.root) is not None
    monkeypatch.setattr(cachestore, "code_digest", lambda: "")
    assert cachestore.open_store(ws.root / ".taskform", ws.root) is None


def test_a_validate_answered_from_the_cache_loads_no_kind(ws, user_cache):
    ws.spec(VALID)
    probe = ("import sys\nfrom runner.spec.load import load_specs\n"
             "from runner.workspace import open_workspace\n"
             f"load_specs(open_workspace({str(ws.root)!r}))\n"
             "print(sorted(m for m in sys.modules if m.startswith(('runner.kinds', 'jinja2'))))\n")
    runs = [subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                           env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=120)
            for _ in range(2)]
    assert "'runner.kinds.value'" in runs[0].stdout  # the first one validated
    assert (runs[1].returncode, runs[1].stdout, runs[1].stderr) == (0, "[]\n", "")
