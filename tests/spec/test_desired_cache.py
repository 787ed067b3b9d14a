"""The workspace's desired entry: a load whose files and variables are as they were reads one
entry, and gives exactly what reading each file's entry and checking across files gives."""

from __future__ import annotations

import shutil
from dataclasses import fields
from pathlib import Path

import pytest
from spec_cache_kit import UNKEEPABLE

from runner.errors import SpecError
from runner.resource import Resource
from runner.spec import desiredcache, loadedcache
from runner.spec.load import Specs, load_specs
from runner.workspace import open_workspace

REPO = Path(__file__).resolve().parents[2]
WORKSPACES = [".", "examples/droplets", "examples/docker-pipeline", "examples/rubric-grading",
              "examples/task-pool"]

TWO_FILES = {
    "specs/a.yaml": """
        apiVersion: taskform/v1
        kind: Pipeline
        metadata: {name: a}
        spec:
          steps:
            one: {value: {input: "{{ var.greeting }}"}}
            two:
              value: {input: "{{ steps.one.value }}-{{ ref('pipeline.b.three').value }}"}
              depends_on: [one]
              retries: 2
              when: steps.one.value != ""
    """,
    "specs/b.yaml": """
        apiVersion: taskform/v1
        kind: Pipeline
        metadata: {name: b}
        spec:
          steps:
            three: {value: {input: 3}}
    """,
}


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The files whose validated entry a load read."""
    read: list[str] = []
    find = loadedcache.find

    def counting(store, data, display, *args):  # type: ignore[no-untyped-def]
        read.append(display)
        return find(store, data, display, *args)

    monkeypatch.setattr(loadedcache, "find", counting)
    return read


def as_plain(specs: Specs) -> list[object]:
    """Everything a load gives, field by field, in order (each Resource's instance dict too:
    the entry's are made without `__init__`)."""
    resources = [(address, [(f.name, getattr(r, f.name)) for f in fields(Resource)],
                  sorted(vars(r)), vars(r.origin))
                 for address, r in specs.resources.items()]
    return [resources, specs.files, specs.digest, specs.documents, specs.dependencies]


def loaded_three_times(root: Path, read: list[str], **overrides: str) -> list[Specs]:
    out = []
    for _ in range(3):
        read.clear()
        out.append(load_specs(open_workspace(root, overrides=overrides)))
    return out


@pytest.mark.parametrize("workspace", WORKSPACES)
def test_a_load_from_the_desired_entry_is_the_load_from_each_file(
        workspace, tmp_path, user_cache, counted):
    root = tmp_path / "ws"
    if workspace == ".":  # the default workspace: its config and its specs are what a load reads
        (root / "specs").parent.mkdir()
        shutil.copy(REPO / "taskform.yaml", root / "taskform.yaml")
        shutil.copytree(REPO / "specs", root / "specs")
    else:
        shutil.copytree(REPO / workspace, root, ignore=shutil.ignore_patterns(".taskform"))
    validated, from_files, from_entry = loaded_three_times(root, counted)
    assert counted == []  # the third read no file's entry
    assert as_plain(from_entry) == as_plain(from_files) == as_plain(validated)
    assert len(list((root / ".taskform/cache/specs").glob("*.workspace-desired.json"))) == 1


def test_the_entry_is_written_by_a_load_whose_every_file_is_in_the_validated_layer(
        ws, user_cache, counted):
    for path, text in TWO_FILES.items():
        ws.write(path, text)
    ws.write("taskform.yaml", "variables: {greeting: {value: hello}}\n")
    folder = ws.root / ".taskform/cache/specs"
    load_specs(open_workspace(ws.root))  # validated, and each file kept: so is the workspace
    assert sorted(counted) == ["specs/a.yaml", "specs/b.yaml"]
    assert len(list(folder.glob("*.workspace-desired.json"))) == 1
    counted.clear()
    load_specs(open_workspace(ws.root))
    assert counted == []


def test_no_entry_is_written_while_a_file_is_not_in_the_validated_layer(ws, user_cache, counted):
    ws.write("specs/b.yaml", TWO_FILES["specs/b.yaml"])
    ws.spec(UNKEEPABLE)  # a mapping JSON would give back with another key
    for _ in range(3):
        counted.clear()
        load_specs(open_workspace(ws.root))
        assert sorted(counted) == ["specs/b.yaml", "specs/main.yaml"]
    assert list((ws.root / ".taskform/cache/specs").glob("*.workspace-*.json")) == []


@pytest.mark.parametrize("change", ["a file", "a variable", "a secret", "a file removed"])
def test_what_decides_the_entry_moved_and_each_file_is_read_again(
        ws, user_cache, counted, change, monkeypatch):
    for path, text in TWO_FILES.items():
        ws.write(path, text)
    ws.write("taskform.yaml", "variables: {greeting: {value: hello}}\n")
    loaded_three_times(ws.root, counted)
    assert counted == []
    if change == "a file":
        ws.write("specs/b.yaml", TWO_FILES["specs/b.yaml"].replace("input: 3", "input: 4"))
    elif change == "a variable":
        ws.write("taskform.yaml", "variables: {greeting: {value: hi}}\n")
    elif change == "a secret":
        monkeypatch.setenv("TF_TEST_GREETING", "hello")
        ws.write("taskform.yaml",
                 "variables:\n  greeting: {env: TF_TEST_GREETING, secret: true}\n")
    else:
        (ws.root / "specs/b.yaml").unlink()
        with pytest.raises(SpecError) as err:
            load_specs(open_workspace(ws.root))
        assert "references pipeline.b.three, which is not defined" in str(err.value)
        return
    specs = load_specs(open_workspace(ws.root))
    assert counted != []  # read from the files again
    validated = load_specs(open_workspace(ws.root)) if change != "a secret" else specs
    by_text = {a.text: r for a, r in specs.resources.items()}
    assert by_text["pipeline.b.three"].settings == {"input": 4 if change == "a file" else 3}
    assert by_text["pipeline.a.one"].settings == {
        "input": "hi" if change == "a variable" else "hello"}
    assert as_plain(validated) == as_plain(specs)
    if change == "a secret":  # a file that reads a secret is never kept, nor is the workspace
        for _ in range(2):
            counted.clear()
            load_specs(open_workspace(ws.root))
            assert sorted(counted) == ["specs/a.yaml", "specs/b.yaml"]


def test_a_tampered_entry_reads_as_none(ws, user_cache, counted):
    for path, text in TWO_FILES.items():
        ws.write(path, text)
    ws.write("taskform.yaml", "variables: {greeting: {value: hello}}\n")
    first, _, _ = loaded_three_times(ws.root, counted)
    (entry,) = (ws.root / ".taskform/cache/specs").glob("*.workspace-desired.json")
    entry.write_bytes(entry.read_bytes().replace(b'"input":3', b'"input":9'))
    counted.clear()
    specs = load_specs(open_workspace(ws.root))
    assert sorted(counted) == ["specs/a.yaml", "specs/b.yaml"]
    assert as_plain(specs) == as_plain(first)


def test_a_desired_entry_keeps_the_analyses_until_a_template_is_analysed(ws, user_cache,
                                                                          counted):
    """Analyses come with the entry as text: a Jinja2 template is not parsed to analyse it."""
    import jinja2.lexer

    from runner.spec import templating

    ws.spec("""
        apiVersion: taskform/v1
        kind: Pipeline
        metadata: {name: j}
        spec:
          steps:
            a: {value: {input: 1}}
            b: {value: {input: "{% if steps.a.value %}{{ steps.a.value | string }}{% endif %}"}}
    """)
    loaded_three_times(ws.root, counted)
    templating.analyse.cache_clear()
    templating._analysed.clear()
    templating._unread.clear()
    load_specs(open_workspace(ws.root))
    assert counted == [] and len(templating._unread) == 1
    tokenised = []
    tokeniter = jinja2.lexer.Lexer.tokeniter

    def counting(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        tokenised.append(args)
        return tokeniter(self, *args, **kwargs)

    jinja2.lexer.Lexer.tokeniter = counting  # type: ignore[method-assign]
    try:
        refs = templating.analyse(
            "{% if steps.a.value %}{{ steps.a.value | string }}{% endif %}")
    finally:
        jinja2.lexer.Lexer.tokeniter = tokeniter  # type: ignore[method-assign]
        templating.analyse.cache_clear()
    assert refs.steps == {"a"} and tokenised == []
    assert templating._unread == []


def test_the_key_tells_apart_what_json_would_not():
    key = desiredcache._key
    assert key("d", {"v": {1: "x"}}, []) != key("d", {"v": {"1": "x"}}, [])
    assert key("d", {"v": 1}, []) != key("d", {"v": True}, [])
    assert key("d", {"v": 1}, []) != key("d", {"v": 1}, ["v"])
