"""The spec cache holds data only, sealed with a per-user key: a planted, corrupt or foreign
entry changes nothing, a change of taskform's code invalidates it, and no secret enters it."""

from __future__ import annotations

import hashlib
import os
import pickle
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from runner.spec import parsecache
from runner.spec.cachestore import CacheStore, entry_name, user_key
from runner.spec.yamlsrc import parse_bytes

REPO = Path(__file__).resolve().parents[2]

VALID = """
    apiVersion: taskform/v1
    kind: Pipeline
    metadata: {name: p}
    spec:
      steps:
        a: {value: {input: 1}}
        b: {value: {input: 2}, depends_on: [a]}
    """
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


@pytest.fixture
def user_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private XDG cache folder for the key, seen in-process and by subprocesses."""
    folder = tmp_path / "user-cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(folder))
    return folder


def entries(ws) -> list[Path]:
    folder = ws.root / ".taskform" / "cache" / "specs"
    return sorted(folder.iterdir()) if folder.is_dir() else []


def parse_entry(ws, spec: Path) -> Path:
    return ws.root / ".taskform" / "cache" / "specs" / entry_name("parse", spec.read_bytes())


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
    fresh = parse_bytes(data, "specs/x.yaml")
    assert parsecache.parse(store, data, "specs/x.yaml") == fresh
    assert (store.directory / entry_name("parse", data)).is_file()
    assert parsecache.parse(store, data, "specs/y.yaml") == parse_bytes(data, "specs/y.yaml")


def test_a_value_json_cannot_hold_is_parsed_each_time(tmp_path):
    store = CacheStore(tmp_path / ".taskform" / "cache" / "specs", b"k" * 32)
    data = b"blob: !!binary aGVsbG8=\n"
    assert parsecache.parse(store, data, "x.yaml") == parse_bytes(data, "x.yaml")
    assert parsecache.parse(store, data, "x.yaml")[0][0].value == {"blob": b"hello"}
    assert not store.directory.exists()


def test_a_file_with_parse_errors_is_not_cached(ws, user_cache):
    ws.spec(VALID.replace("a: {value: {input: 1}}", "a: {value: {input: 1, input: 3}}"))
    for _ in range(2):
        result = ws.cli("validate")
        assert result.output == ("Error: 1 error in the specs:\n  specs/main.yaml:6:27: "
                                 "spec.steps.a.value.input: duplicate key 'input' (first defined "
                                 "at line 6)\n")
    assert entries(ws) == []


def test_planted_pickle_runs_no_code(ws, user_cache, tmp_path):
    spec = ws.spec(VALID)
    marker = tmp_path / "code-ran"
    evil = pickle.dumps(Payload(marker))
    folder = ws.root / ".taskform" / "cache" / "specs"
    folder.mkdir(parents=True)
    planted = [folder / old_pickle_name(spec, "specs/main.yaml"), parse_entry(ws, spec)]
    for path in planted:
        path.write_bytes(evil)
    proc = ws.run("validate")
    assert (proc.returncode, proc.stdout, proc.stderr) == (
        0, "Valid: 1 document, 2 resources in 1 file.\n", "")
    assert not marker.exists()
    assert planted[1].read_bytes() != evil  # replaced by a genuine entry
    pickle.loads(evil)  # the payload is live: unpickled, it would have left the marker
    assert marker.exists()


def test_planted_entry_cannot_make_an_invalid_spec_valid(ws, user_cache):
    """The attacker knows the algorithm and writes a well-formed entry claiming a valid parse
    of the invalid file; without the user's key it reads as missing."""
    spec = ws.spec(INVALID)
    valid_parse = parse_bytes(ws.spec(VALID, name="valid.yaml").read_bytes(), "specs/main.yaml")[0]
    attacker = CacheStore(ws.root / ".taskform" / "cache" / "specs", b"attacker key".ljust(32))
    name = entry_name("parse", spec.read_bytes())
    attacker.write(name, [parsecache._encode(doc) for doc in valid_parse], 1 << 20)
    assert parsecache.parse(attacker, spec.read_bytes(), "specs/main.yaml")[0] == valid_parse
    (ws.root / "specs" / "valid.yaml").unlink()
    result = ws.cli("validate")
    assert (result.exit_code, result.output) == (1, INVALID_MESSAGE)


@pytest.mark.parametrize("damage", ["truncate", "flip a byte", "empty", "tag only"])
def test_a_damaged_entry_is_ignored_and_replaced(ws, user_cache, damage):
    spec = ws.spec(VALID)
    assert ws.cli("validate").exit_code == 0
    entry = parse_entry(ws, spec)
    genuine = entry.read_bytes()
    damaged = {"truncate": genuine[: len(genuine) // 2],
               "flip a byte": genuine[:-3] + bytes([genuine[-3] ^ 1]) + genuine[-2:],
               "empty": b"", "tag only": genuine[:65]}[damage]
    entry.write_bytes(damaged)
    result = ws.cli("validate")
    assert (result.exit_code, result.output) == (0, "Valid: 1 document, 2 resources in 1 file.\n")
    assert entry.read_bytes() == genuine


def test_an_entry_renamed_to_another_file_is_not_used(ws, user_cache):
    """A genuine entry of a valid file, copied under the invalid file's entry name."""
    valid = ws.spec(VALID)
    assert ws.cli("validate").exit_code == 0
    genuine = parse_entry(ws, valid).read_bytes()
    invalid = ws.spec(INVALID)
    parse_entry(ws, invalid).write_bytes(genuine)
    result = ws.cli("validate")
    assert (result.exit_code, result.output) == (1, INVALID_MESSAGE)


def test_a_planted_symlink_is_replaced_not_written_through(ws, user_cache, tmp_path):
    spec = ws.spec(VALID)
    outside = tmp_path / "outside.txt"
    outside.write_text("keep me")
    entry = parse_entry(ws, spec)
    entry.parent.mkdir(parents=True)
    entry.symlink_to(outside)
    assert ws.cli("validate").exit_code == 0
    assert outside.read_text() == "keep me"
    assert not entry.is_symlink() and entry.stat().st_size > 0


def test_a_planted_fifo_does_not_hang_validate(ws, user_cache):
    spec = ws.spec(VALID)
    entry = parse_entry(ws, spec)
    entry.parent.mkdir(parents=True)
    os.mkfifo(entry)
    proc = ws.run("validate", timeout=60)
    assert (proc.returncode, proc.stdout) == (0, "Valid: 1 document, 2 resources in 1 file.\n")


def test_a_linked_cache_folder_is_not_written_to(ws, user_cache, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (ws.root / ".taskform" / "cache").mkdir(parents=True)
    (ws.root / ".taskform" / "cache" / "specs").symlink_to(elsewhere)
    ws.spec(VALID)
    assert ws.cli("validate").exit_code == 0
    assert list(elsewhere.iterdir()) == []


def test_cache_files_and_folders_are_private(ws, user_cache):
    ws.spec(VALID)
    assert ws.cli("validate").exit_code == 0
    cache = ws.root / ".taskform" / "cache"
    modes = {str(p.relative_to(ws.root)): stat.S_IMODE(p.stat().st_mode)
             for p in [cache, cache / "specs", *entries(ws)]}
    modes.update({str(p.relative_to(user_cache)): stat.S_IMODE(p.stat().st_mode)
                  for p in [user_cache / "taskform", user_cache / "taskform" / "key"]})
    assert set(modes.values()) <= {0o700, 0o600}
    assert modes[".taskform/cache"] == modes[".taskform/cache/specs"] == modes["taskform"] == 0o700
    assert [m for name, m in modes.items() if name.endswith(".json") or name.endswith("key")] == \
        [0o600] * (len(entries(ws)) + 1)


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
             if any(word in line for word in ("pickle", "marshal", "shelve", "dill", "jsonpickle",
                                                "yaml.load(", "yaml.unsafe_load", "FullLoader"))]
    assert found == []


def test_a_changed_settings_model_is_seen_by_the_next_validate(ws, user_cache, tmp_path):
    """A second interpreter runs a copy of taskform whose `value` kind renamed its setting;
    its validate must not answer from the entries the first one wrote."""
    ws.spec(VALID)
    for _ in range(2):  # the second run reads what the first one cached
        proc = ws.run("validate")
        assert (proc.returncode, proc.stdout) == (0, "Valid: 1 document, 2 resources in 1 file.\n")
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
    assert (proc.returncode, proc.stdout) == (0, "Valid: 1 document, 2 resources in 1 file.\n")


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
            b: {value: {input: "{{ var.plain }}"}}
        """)
    ws.spec(VALID.replace("name: p", "name: q"), name="other.yaml")
    env = {"TF_TEST_TOKEN": secret}
    assert ws.cli("validate", env=env).exit_code == 0
    assert ws.cli("plan", env=env).exit_code == 0
    assert ws.cli("validate", env=env).exit_code == 0
    files = [p for folder in (ws.root / ".taskform" / "cache", user_cache)
             for p in folder.rglob("*") if p.is_file()]
    assert len(entries(ws)) >= 2  # the cache was written: the check below is not vacuous
    assert [p for p in files if secret.encode() in p.read_bytes()] == []
