"""Hostile YAML: bombs, self-reference, deep nesting, huge files, tags a spec cannot mean.
Each is an error naming file, line and column, with exit code 1 and no traceback."""

from __future__ import annotations

import pytest

from runner.spec.yamlbuild import MAX_COPIED, MAX_DEPTH, MAX_VALUES
from runner.spec.yamlsrc import MAX_FILE_BYTES, parse_text

LAUGHS = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"{c}: &{c} [{', '.join([f'*{p}'] * 9)}]\n" for p, c in zip("abcdefgh", "bcdefghi", strict=True))

FATAL = [  # the rest of such a file cannot be read safely: one error, nothing else checked
    ("alias inside its own anchor", "a: &a [*a]\n",
     "specs/main.yaml:1:8: a[0]: alias *a is used inside its own anchor &a: the value would "
     "contain itself"),
    ("merge of its own anchor", "a: &a {<<: *a}\n",
     "specs/main.yaml:1:12: a.<<: alias *a is used inside its own anchor &a: the value would "
     "contain itself"),
    ("billion laughs", LAUGHS,
     f"specs/main.yaml:6:8: f[0]: alias *e takes the values copied by aliases and merge keys "
     f"in this file past the limit of {MAX_COPIED}"),
    ("nested flow lists", "a: " + "[" * 5000 + "]" * 5000 + "\n",
     f"specs/main.yaml:1:{3 + MAX_DEPTH}: a[0][0][0][0][0]...: nested deeper than "
     f"{MAX_DEPTH} levels"),
    ("nested block mappings", "a:\n" + "".join("  " * (i + 1) + "k:\n" for i in range(300)),
     f"specs/main.yaml:{MAX_DEPTH + 1}:{2 * MAX_DEPTH + 1}: a.k.k.k.k.k...: nested deeper "
     f"than {MAX_DEPTH} levels"),
    ("alias past the depth", "a: &a " + "[" * 60 + "]" * 60 + "\nb: " + "[" * 50 + "*a" +
     "]" * 50 + "\n",
     f"specs/main.yaml:2:54: b[0][0][0][0][0]...: alias *a makes the value nested deeper than "
     f"{MAX_DEPTH} levels"),
]

DOCUMENT = """\
apiVersion: taskform/v1
kind: Pipeline
metadata: {name: p}
spec:
  steps:
    a:
      value:
        input: %s
"""
AT = "specs/main.yaml:8:16: spec.steps.a.value.input"
TAGS = "specs hold text, numbers, true/false, null, lists and mappings"

IN_A_VALUE = [  # reported, and the rest of the document is still checked
    ("python object tag", "!!python/object/apply:os.system [echo hi]",
     f"{AT}: unsupported YAML tag !!python/object/apply:os.system: {TAGS}"),
    ("local tag", "!foo 1", f"{AT}: unsupported YAML tag !foo: {TAGS}"),
    ("binary garbage", '!!binary "!!!"', f"{AT}: unsupported YAML tag !!binary: {TAGS}"),
    ("set", "!!set {x, y}", f"{AT}: unsupported YAML tag !!set: {TAGS}"),
    ("tagged key", "{!!python/name:os.system x: 1}",
     f"specs/main.yaml:8:17: spec.steps.a.value.input.x: unsupported YAML tag "
     f"!!python/name:os.system: {TAGS}"),
    ("int that is not one", "!!int abc", f"{AT}: expected an integer for !!int, got 'abc'"),
    ("timestamp that is not one", "!!timestamp x",
     f"{AT}: expected a date like 2024-05-31 or a time like 2024-05-31T12:00:00Z for "
     "!!timestamp, got 'x'"),
    ("impossible date", "2024-13-45",
     f"{AT}: expected a date like 2024-05-31 or a time like 2024-05-31T12:00:00Z for "
     "!!timestamp, got '2024-13-45' (quote it to keep it as text)"),
    ("integer too long to convert", "9" * 5000,
     f"{AT}: expected an integer for !!int, got '{'9' * 57}...' (quote it to keep it as text)"),
    ("merge of a scalar", "{<<: 5}",
     "specs/main.yaml:8:21: spec.steps.a.value.input.<<: expected a mapping or a list of "
     "mappings to merge into this one"),
    ("undefined alias", "*nope",
     f"{AT}: unknown alias *nope: an anchor &nope must come before it, in the same document"),
    ("list as a key", "{[a, b]: 1}",
     "specs/main.yaml:8:17: spec.steps.a.value.input: mapping keys must be plain strings"),
]
CASES = FATAL + [(name, DOCUMENT % value, expected) for name, value, expected in IN_A_VALUE]


@pytest.mark.parametrize("text,expected", [(t, e) for _, t, e in CASES],
                         ids=[n for n, _, _ in CASES])
def test_each_hostile_yaml_is_one_error_at_its_place(ws, text, expected):
    ws.write("specs/main.yaml", text)
    for verb in ("validate", "plan"):
        result = ws.cli(verb)
        assert (result.exit_code, result.output) == \
            (1, f"Error: 1 error in the specs:\n  {expected}\n"), verb


def test_nesting_that_crashed_the_c_loader_is_an_error_in_a_real_process(ws):
    ws.write("specs/main.yaml", "a: " + "[" * 200_000 + "]" * 200_000 + "\n")
    proc = ws.run("validate")
    assert (proc.returncode, proc.stdout, proc.stderr) == (1, "", (
        f"Error: 1 error in the specs:\n  specs/main.yaml:1:{3 + MAX_DEPTH}: a[0][0][0][0][0]...: "
        f"nested deeper than {MAX_DEPTH} levels\n"))


def test_a_file_past_the_size_limit_is_not_read(ws):
    ws.write("specs/main.yaml", "# " + "x" * MAX_FILE_BYTES + "\n")
    result = ws.cli("validate")
    assert result.output == ("Error: 1 error in the specs:\n  specs/main.yaml:1:1: the file is "
                             f"larger than {MAX_FILE_BYTES // 1024} KiB, the limit for a spec "
                             "file; split it into several files\n")


def test_a_file_past_the_value_limit(ws):
    ws.write("specs/main.yaml", "a: [" + "1," * MAX_VALUES + "1]\n")
    result = ws.cli("validate")
    assert result.output == (f"Error: 1 error in the specs:\n  specs/main.yaml:1:{2 * MAX_VALUES + 1}"
                             f": a[{MAX_VALUES - 2}]: the file holds more than {MAX_VALUES} "
                             "values, the limit for one spec file; split it into several files\n")


def test_every_problem_of_a_file_comes_at_once(ws):
    ws.spec("""
        apiVersion: taskform/v1
        kind: Pipeline
        metadata: {name: p}
        spec:
          steps:
            a: {value: {input: !foo 1}}
            b: {value: {input: !!int x}}
            c: {value: {input: 1, input: 2}}
            d: {value: {inptu: 1}}
        """)
    result = ws.cli("validate")
    assert result.output.splitlines() == [
        "Error: 4 errors in the specs:",
        f"  specs/main.yaml:6:24: spec.steps.a.value.input: unsupported YAML tag !foo: {TAGS}",
        "  specs/main.yaml:7:24: spec.steps.b.value.input: expected an integer for !!int, got 'x'",
        "  specs/main.yaml:8:27: spec.steps.c.value.input: duplicate key 'input' (first defined "
        "at line 8)",
        "  specs/main.yaml:9:17: spec.steps.d.value.inptu: unknown key 'inptu'; expected one of: "
        "input",
    ]


def test_a_file_with_a_tag_problem_is_never_cached_as_valid(ws):
    ws.spec("""
        apiVersion: taskform/v1
        kind: Pipeline
        metadata: {name: p}
        spec:
          steps:
            a: {value: {input: !!python/name:os.system ""}}
        """)
    expected = ("Error: 1 error in the specs:\n  specs/main.yaml:6:24: spec.steps.a.value.input: "
                "unsupported YAML tag !!python/name:os.system: specs hold text, numbers, "
                "true/false, null, lists and mappings\n")
    assert [ws.cli("validate").output for _ in range(2)] == [expected, expected]


def test_merge_keys_written_here_win_and_are_placed_where_written():
    docs, issues = parse_text("base: &b {x: 1, y: 2}\nc:\n  <<: *b\n  y: 3\n", "f.yaml")
    assert issues == []
    assert docs[0].value == {"base": {"x": 1, "y": 2}, "c": {"x": 1, "y": 3}}
    assert docs[0].position(("c", "x")) == (3, 7)  # merged: the alias that brought it
    assert docs[0].position(("c", "y")) == (4, 6)
    assert list(docs[0].positions) == [(), ("base",), ("base", "x"), ("base", "y"), ("c",),
                                       ("c", "x"), ("c", "y")]


def test_of_several_merged_mappings_the_first_wins():
    docs, issues = parse_text("a: &a {k: 1}\nb: &b {k: 2, m: 3}\nc: {<<: [*a, *b]}\n", "f.yaml")
    assert (issues, docs[0].value["c"]) == ([], {"k": 1, "m": 3})


def test_aliases_within_the_limit_are_copies():
    docs, issues = parse_text("a: &a {x: [1, 2]}\nb: *a\n", "f.yaml")
    assert issues == []
    assert docs[0].value["b"] == {"x": [1, 2]} and docs[0].value["b"] is not docs[0].value["a"]
