"""`plan --format markdown` (with -out at the same time) and `show PLANFILE`: one saved plan,
rendered as text, Markdown or JSON, anywhere, secrets masked."""

from __future__ import annotations

import json

SPEC = """
apiVersion: taskform/v1
kind: Pipeline
metadata: {name: s}
spec:
  steps:
    greet: {value: {input: "token={{ var.token }}"}}
"""
ENV = {"TF_TEST_TOKEN": "hunter2-very-secret"}


def test_plan_writes_markdown_and_the_plan_file_at_once(ws) -> None:  # type: ignore[no-untyped-def]
    ws.write("taskform.yaml", "variables:\n  token: {env: TF_TEST_TOKEN, secret: true}\n")
    ws.spec(SPEC)
    plan_file = ws.root / "plan.json"
    result = ws.cli("plan", "-out", str(plan_file), "--format", "markdown",
                    "-detailed-exitcode", env=ENV)
    assert (result.exit_code, result.output) == (2, """\
### taskform plan

**Plan: 1 to create, 0 to update, 0 to replace, 0 to destroy, 0 unchanged.**

| | address | kind | action | why |
| :-: | --- | --- | --- | --- |
| `+` | `pipeline.s.greet` | value | create | not yet created |

<details open><summary>Settings that change (2 lines)</summary>

```diff
+ pipeline.s.greet  (value, create)
+     input = "(sensitive)"
```

</details>
""")
    assert json.loads(plan_file.read_text())["changes"][0]["address"] == "pipeline.s.greet"
    assert "hunter2" not in plan_file.read_text()


def test_show_renders_a_saved_plan_as_plan_did(ws, tmp_path) -> None:  # type: ignore[no-untyped-def]
    ws.write("taskform.yaml", "variables:\n  token: {env: TF_TEST_TOKEN, secret: true}\n")
    ws.spec(SPEC)
    plan_file = tmp_path / "plan.json"
    text = ws.cli("plan", "-out", str(plan_file), env=ENV).output
    for args, expected in (([], text.split("\nSaved the plan to")[0]),
                           (["--json"], ws.cli("plan", "--json", env=ENV).output),
                           (["--format", "markdown"],
                            ws.cli("plan", "--format", "markdown", env=ENV).output)):
        shown = ws.cli("show", str(plan_file), *args, env=ENV)
        assert (shown.exit_code, shown.output) == (0, expected), args
    # no workspace needed: a CI job renders the artifact a pull request made
    elsewhere = tmp_path / "empty"
    elsewhere.mkdir()
    from click.testing import CliRunner

    from runner.cli import cli

    shown = CliRunner().invoke(cli, ["-C", str(elsewhere), "show", str(plan_file)])
    assert (shown.exit_code, shown.output) == (0, text.split("\nSaved the plan to")[0])


def test_show_names_a_missing_or_foreign_file(ws) -> None:  # type: ignore[no-untyped-def]
    missing = ws.cli("show", str(ws.root / "nope.json"))
    assert (missing.exit_code, missing.output) == (
        1, f"Error: plan file {ws.root / 'nope.json'} does not exist\n")
    (ws.root / "other.json").write_text('{"format_version": "9"}')
    foreign = ws.cli("show", str(ws.root / "other.json"))
    assert (foreign.exit_code, foreign.output) == (
        1, "Error: plan file format '9' is not supported (expected '1'); make a new plan with "
           "this taskform\n")
