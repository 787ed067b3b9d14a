"""The plan as a pull-request comment, asserted whole: summary, destroys called out, the table
with reasons, the settings in a collapsed section; escaping of what a spec could inject; and
the cut to GitHub's comment limit with a note saying what was cut."""

from __future__ import annotations

from runner.plan import Change, Plan
from runner.report.plan_markdown import GITHUB_COMMENT_LIMIT, LIMIT, render_markdown
from runner.vocabulary import Action

NOOP = Change("pipeline.p.same", "value", Action.NOOP, after={"input": 1})


def plan_of(*changes: Change) -> Plan:
    return Plan(changes=tuple(changes), state_serial=3, spec_digest="d", workspace="/ws")


def test_no_changes() -> None:
    assert render_markdown(plan_of(NOOP)) == (
        "### taskform plan\n\n**No changes.** 1 resource matches the specs.\n")


def test_changes_with_reasons_destroys_first_and_settings_collapsed() -> None:
    plan = plan_of(
        Change("pipeline.p.new", "value", Action.CREATE, ("not yet created",),
               after={"input": "hello"}),
        Change("pipeline.p.old", "shell", Action.DESTROY, ("removed from specs",),
               before={"command": "true"}),
        Change("pipeline.p.img", "docker_build", Action.REPLACE, ("file Dockerfile changed",),
               before={"tag": "a"}, after={"tag": "b"}),
        Change("pipeline.p.greet", "value", Action.UPDATE,
               ("setting input changed", "pipeline.p.new will change"),
               before={"input": "hi", "gone": 1}, after={"input": "bonjour"}),
        NOOP)
    assert render_markdown(plan) == """\
### taskform plan

**Plan: 1 to create, 1 to update, 1 to replace, 1 to destroy, 1 unchanged.**

> [!CAUTION]
> **1 resource will be destroyed; 1 resource will be destroyed and re-created:**
> - `pipeline.p.old` (destroy: removed from specs)
> - `pipeline.p.img` (replace: file Dockerfile changed)

| | address | kind | action | why |
| :-: | --- | --- | --- | --- |
| `+` | `pipeline.p.new` | value | create | not yet created |
| `-` | **`pipeline.p.old`** | shell | **destroy** | removed from specs |
| `-/+` | **`pipeline.p.img`** | docker_build | **replace** | file Dockerfile changed |
| `~` | `pipeline.p.greet` | value | update | setting input changed<br>pipeline.p.new will change |

<details open><summary>Settings that change (9 lines)</summary>

```diff
+ pipeline.p.new  (value, create)
+     input = "hello"
-/+ pipeline.p.img  (docker_build, replace)
-     tag: "a"
+     tag: "b"
~ pipeline.p.greet  (value, update)
-     input: "hi"
+     input: "bonjour"
-     gone: 1
```

</details>
"""


def test_what_a_spec_could_inject_is_escaped() -> None:
    plan = plan_of(Change('pipeline.p.x["a|b"]', "value", Action.CREATE,
                          ("`when` <details> | x\nnext line & more",),
                          after={"input": "```\n<script>"}))
    text = render_markdown(plan)
    assert "| `+` | `pipeline.p.x[\"a\\|b\"]` | value | create | `when` &lt;details&gt; \\| " \
           "x<br>next line &amp; more |\n" in text
    # the settings' fence is longer than any backtick run inside it
    assert '````diff\n+ pipeline.p.x["a|b"]  (value, create)\n+     input = "```\\n<script>"\n' \
           '````\n' in text


def test_a_long_plan_loses_its_settings_first_then_rows_with_a_note() -> None:
    changes = [Change(f"pipeline.p.s{i:04d}", "value", Action.CREATE, ("not yet created",),
                      after={"input": "x" * 90}) for i in range(600)]
    text = render_markdown(plan_of(*changes))
    assert len(text) <= LIMIT < GITHUB_COMMENT_LIMIT
    assert "<details" not in text and "| `pipeline.p.s0599` |" in text
    assert text.endswith("\n_The settings that change are left out to fit GitHub's 65,536-"
                         "character limit; the saved plan has everything: `taskform show "
                         "PLANFILE`._\n")
    many = [Change(f"pipeline.p.s{i:05d}", "value", Action.CREATE, ("not yet created",))
            for i in range(2000)]
    cut = render_markdown(plan_of(*many))
    assert len(cut) <= LIMIT
    rows = cut.count("| `+` |")
    assert 500 < rows < 2000
    assert cut.endswith(f"\n_{2000 - rows} more changes and the settings that change are left "
                        "out to fit GitHub's 65,536-character limit; the saved plan has "
                        "everything: `taskform show PLANFILE`._\n")


def test_many_destroys_are_listed_up_to_twenty() -> None:
    gone = [Change(f"pipeline.p.d{i:02d}", "value", Action.DESTROY, ("removed from specs",))
            for i in range(25)]
    text = render_markdown(plan_of(*gone))
    assert "> **25 resources will be destroyed:**\n> - `pipeline.p.d00` (destroy: removed " \
           "from specs)\n" in text
    assert "> - `pipeline.p.d19` (destroy: removed from specs)\n> - and 5 more (in the table " \
           "below)\n\n|" in text
