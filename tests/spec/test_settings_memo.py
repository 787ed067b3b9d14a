"""A changed spec file validates only the settings blocks that changed (runner/spec/settingsmemo.py),
and says exactly what validating everything would say."""

from __future__ import annotations

import pytest

from runner.address import Address, Selection
from runner.spec import documents
from runner.spec.load import load_specs
from runner.spec.settingsmemo import SettingsMemo
from runner.workspace import open_workspace

STEPS = 40


def pipeline(changed: int | None = None, extra: str = "", head: str = "") -> str:
    lines = ["apiVersion: taskform/v1", "kind: Pipeline", "metadata: {name: p}", "spec:",
             "  steps:", *head.splitlines()]
    for i in range(STEPS):
        value = f'"{{{{ steps.s{i - 1}.value }}}}-{i}"' if i else "0"
        if i == changed:
            value = f'"{{{{ steps.s{i - 1}.value }}}}-changed"'
        lines.append(f"    s{i}: {{value: {{input: {value}}}}}")
    return "\n".join(lines) + "\n" + extra



@pytest.fixture
def validations(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths of the settings blocks validated, in order."""
    seen: list[str] = []
    real = documents.validate

    def counting(model, value, doc, base, skip=None):  # type: ignore[no-untyped-def]
        seen.append(".".join(str(p) for p in base))
        return real(model, value, doc, base, skip)

    monkeypatch.setattr(documents, "validate", counting)
    return seen


def settings_of(ws) -> dict[str, object]:  # type: ignore[no-untyped-def]
    specs = load_specs(open_workspace(ws.root))
    return {str(a): (r.settings, tuple(str(d) for d in r.depends_on), r.origin.line)
            for a, r in specs.resources.items()}


def test_one_changed_value_validates_one_block_and_loads_as_a_cold_read(ws, user_cache,
                                                                          validations):
    spec = ws.spec(pipeline())
    settings_of(ws)
    assert len(validations) == STEPS  # the first read validates every block
    spec.write_text(pipeline(changed=STEPS - 1))
    validations.clear()
    warm = settings_of(ws)
    assert validations == [f"spec.steps.s{STEPS - 1}.value"]
    cold = ws.root.parent / "cold"
    (cold / "specs").mkdir(parents=True)
    (cold / "taskform.yaml").write_text("")
    (cold / "specs" / "main.yaml").write_text(pipeline(changed=STEPS - 1))
    validations.clear()
    assert settings_of(type(ws)(cold)) == warm
    assert len(validations) == STEPS  # another workspace shares nothing


def test_an_error_in_a_changed_block_is_reported_with_its_place(ws, user_cache, validations):
    spec = ws.spec(pipeline())
    settings_of(ws)
    spec.write_text(pipeline().replace("s0: {value: {input: 0", "s0: {value: {inptu: 0"))
    validations.clear()
    result = ws.cli("validate")
    # the changed step read alone (`splice`) has an issue, so the file is read whole to report
    # all of its issues at once: that one block is validated again, no other
    assert validations == ["spec.steps.s0.value", "spec.steps.s0.value"]
    assert (result.exit_code, result.output) == (1, (
        "Error: 2 errors in the specs:\n"
        "  specs/main.yaml:6:18: spec.steps.s0.value.inptu: unknown key 'inptu'; expected one "
        "of: input\n"
        "  specs/main.yaml:7:25: spec.steps.s1.value.input: references pipeline.p.s0, which is "
        "not defined\n"))
    assert ws.cli("validate").output == result.output  # a file with issues keeps no memo


def test_a_known_block_moved_down_names_its_new_line(ws, user_cache, validations):
    pull = '    pull: {docker_pull: {image_tag: "alpine:3", engine: lab}}\n'
    spec = ws.spec(pipeline(extra=""), name="main.yaml")
    spec.write_text(pipeline().replace("  steps:\n", "  steps:\n" + pull))
    first = ws.cli("validate")
    assert first.output == ("Error: 1 error in the specs:\n  specs/main.yaml:6:25: "
                            "spec.steps.pull.docker_pull: references droplet.lab, which is not "
                            "defined\n")
    spec.write_text(pipeline().replace("  steps:\n", "  steps:\n    new: {value: {input: 1}}\n"
                                       + pull))
    validations.clear()
    moved = ws.cli("validate")
    assert validations == ["spec.steps.new.value"]  # the pull block's references were known
    assert moved.output == first.output.replace(":6:25:", ":7:25:")


def test_a_block_valid_for_one_kind_is_validated_for_another(ws, user_cache, validations):
    spec = ws.spec(pipeline())
    settings_of(ws)
    spec.write_text(pipeline().replace("s3: {value: {input:", "s3: {shell: {input:"))
    validations.clear()
    result = ws.cli("validate")
    # read alone first (`splice`), then whole to report every issue of the file at once
    assert validations == ["spec.steps.s3.shell", "spec.steps.s3.shell"]
    assert result.exit_code == 1
    assert "specs/main.yaml:9:17: spec.steps.s3.shell.command: required key is missing\n" \
        in result.output


def test_a_forged_or_broken_entry_only_costs_a_validation(ws, user_cache, validations):
    spec = ws.spec(pipeline())
    settings_of(ws)
    folder = ws.root / ".taskform" / "cache" / "specs"
    (memo,) = folder.glob("*.settings.json")
    memo.write_bytes(memo.read_bytes().replace(b'"settings":{', b'"settings":{"x":[1],', 1))
    for layout in folder.glob("*.splice.json"):  # so that the file is read whole
        layout.unlink()
    spec.write_text(pipeline(changed=5))
    validations.clear()
    assert settings_of(ws)["pipeline.p.s5"][0] == {"input": "{{ steps.s4.value }}-changed"}
    assert len(validations) == STEPS  # the altered entry reads as missing


def test_references_round_trip_through_the_memo() -> None:
    memo = SettingsMemo()
    key = SettingsMemo.key("deployment", {"pool": {"labels": {"a": "b"}}}, [])
    refs = ["task.t", Selection("droplet", (("a", "b"),), ("pool",))]
    memo.note(key, refs)
    again = SettingsMemo(dict(memo.seen))
    assert again.find(key) == refs
    assert again.find(SettingsMemo.key("deployment", {"pool": {"labels": {"a": "c"}}}, [])) \
        is None
    # values YAML tells apart stay apart: 1, 1.0, True and "1"; a key's type too
    keys = {SettingsMemo.key("value", {"input": v}, []) for v in (1, 1.0, True, "1")}
    keys |= {SettingsMemo.key("value", {"input": {k: 1}}, []) for k in (1, "1")}
    assert len(keys) == 6
    assert SettingsMemo.key("value", {"input": "x"}, [("input",)]) \
        != SettingsMemo.key("value", {"input": "x"}, [])


def test_an_address_key_is_read_back(ws, user_cache) -> None:
    spec = ws.spec(pipeline())
    settings_of(ws)
    spec.write_text(pipeline(changed=2))
    found = settings_of(ws)
    assert found[str(Address(("pipeline", "p", "s3")))][1] == ("pipeline.p.s2",)


BLOCKS = [
    'value: {input: 1}',
    'value: {input: "{{ steps.s0.value }}-x"}',
    'value: {inptu: 2}',
    'shell: {command: "echo hi"}',
    'shell: {command: "echo {{ var.greeting }}"}',
    'shell: {comand: "echo"}',
    'docker_pull: {image_tag: "alpine:3", engine: lab}',
    'docker_pull: {image_tag: "alpine:3"}',
    'value: {input: [1, 2, {a: b}]}',
    'value: {input: "{{ steps.nowhere.value }}"}',
]


def outcome(ws) -> object:  # type: ignore[no-untyped-def]
    """What loading says: every resource as loaded, or the whole error message."""
    from runner.errors import SpecError

    try:
        specs = load_specs(open_workspace(ws.root))
    except SpecError as exc:
        return str(exc)
    return sorted((str(a), r.kind, repr(r.settings), tuple(map(str, r.depends_on)), str(r.origin))
                  for a, r in specs.resources.items())


def test_random_edits_load_exactly_as_without_any_cache(ws, user_cache, monkeypatch,
                                                        validations):
    """Each of 40 seeded edits (a block swapped, a line inserted, a step renamed or removed) is
    loaded twice: through the cache and its settings layer, and with no cache at all."""
    import random

    from runner.spec import load

    ws.write("taskform.yaml", "variables: {greeting: {value: hello}}\n")
    rng = random.Random(12)
    steps = [(f"s{i}", BLOCKS[i % 3 if i < 3 else rng.randrange(len(BLOCKS))]) for i in range(8)]
    spec = ws.spec("x: 1")
    real_store = load.open_store
    counts = {"cached": 0, "uncached": 0}
    for _ in range(40):
        edit = rng.randrange(4)
        if edit == 0:
            at = rng.randrange(len(steps))
            steps[at] = (steps[at][0], rng.choice(BLOCKS))
        elif edit == 1:
            steps.insert(rng.randrange(len(steps) + 1), (f"n{rng.randrange(1000)}",
                                                         rng.choice(BLOCKS)))
        elif edit == 2 and len(steps) > 2:
            steps.pop(rng.randrange(1, len(steps)))
        else:
            at = rng.randrange(len(steps))
            steps[at] = (f"r{rng.randrange(1000)}", steps[at][1])
        names = dict(steps)  # a repeated name keeps its last block, as YAML would refuse
        text = "apiVersion: taskform/v1\nkind: Pipeline\nmetadata: {name: p}\nspec:\n  steps:\n" \
            + "".join(f"    {name}: {{{block}}}\n" for name, block in names.items())
        spec.write_text(text)
        monkeypatch.setattr(load, "open_store", real_store)
        validations.clear()
        cached = outcome(ws)
        counts["cached"] += len(validations)
        monkeypatch.setattr(load, "open_store", lambda *args: None)
        validations.clear()
        assert outcome(ws) == cached, text
        counts["uncached"] += len(validations)
    assert counts["cached"] < counts["uncached"] / 2, counts  # the settings layer served
