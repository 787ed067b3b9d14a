"""Hostile templates: what would read files, hang, fill memory or crash is an error naming
file, line and field, at validate and at plan, within the budget of `runner/spec/budget.py`."""

from __future__ import annotations

import pytest

from runner.spec.budget import OUTPUT_CHARS, RENDER_MEMORY_MB, Budget
from runner.spec.templating import Scope, TemplateProblem, render

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
def cannot(template: str, reason: str) -> str:
    """The message for a template that fails to render: long ones are shown shortened."""
    shown = template if len(template) <= 80 else template[:77] + "..."
    return f"{AT}: cannot render {shown!r}: {reason}"


MACRO = "{% macro f(s, n) %}{{ f(s ~ s, n - 1) if n else s }}{% endmacro %}{{ f('ab', 64) }}"
CAPTURE = "{% set x %}{% for i in range(100000) %}{{ 'x' * 1000000 }}{% endfor %}{% endset %}"
LIMIT = f"would be larger than {OUTPUT_CHARS} characters or items, the limit in a template"

CASES = [
    ("include", "\"{% include 'x' %}\"",
     f"{AT}: {{% include %}} is not available in spec templates: a template cannot read other "
     "files"),
    ("import", "\"{% import '/etc/passwd' as x %}\"",
     f"{AT}: {{% import %}} is not available in spec templates: a template cannot read other "
     "files"),
    ("from import", "\"{% from 'x' import y %}\"",
     f"{AT}: {{% from %}} is not available in spec templates: a template cannot read other "
     "files"),
    ("extends", "\"{% extends 'x' %}\"",
     f"{AT}: {{% extends %}} is not available in spec templates: a template cannot read other "
     "files"),
    ("include on the third line", "|\n          a\n          b\n          {% include 'x' %}",
     "specs/main.yaml:8:16: spec.steps.a.value.input: {% include %} is not available in spec "
     "templates: a template cannot read other files (line 3 of the template)"),
    ("unknown filter", '"{{ 1 | frobnicate }}"', f"{AT}: unknown filter 'frobnicate'"),
    ("unknown test", '"{{ 1 is frobnicated }}"', f"{AT}: unknown test 'frobnicated'"),
    ("random", '"{{ [1, 2] | random }}"',
     f"{AT}: the random filter is not available in spec templates: its result changes from one "
     "plan to the next"),
    ("division by zero", '"{{ 1 / 0 }}"',
     f"{AT}: cannot render '{{{{ 1 / 0 }}}}': division by zero"),
    ("float overflow", '"{{ 10.0 ** 400 }}"',
     f"{AT}: cannot render '{{{{ 10.0 ** 400 }}}}': a number too large"),
    ("huge power", '"{{ 7 ** (10 ** 9) }}"',
     f"{AT}: cannot render '{{{{ 7 ** (10 ** 9) }}}}': the result of ** would have more than "
     "100000 bits, the limit in a template"),
    ("huge range", '"{{ range(10 ** 9) | list }}"',
     f"{AT}: cannot render '{{{{ range(10 ** 9) | list }}}}': range() would make more than "
     "100000 numbers, the limit in a template"),
    ("text times a lot", "\"{{ 'a' * 10 ** 10 }}\"",
     f"{AT}: cannot render \"{{{{ 'a' * 10 ** 10 }}}}\": repeating a value with * {LIMIT}"),
    ("center filter", "\"{{ 'a' | center(10 ** 9) }}\"",
     f"{AT}: cannot render \"{{{{ 'a' | center(10 ** 9) }}}}\": the center filter's width "
     f"{LIMIT}"),
    ("center method", "\"{{ 'a'.center(10 ** 9) }}\"",
     f"{AT}: cannot render \"{{{{ 'a'.center(10 ** 9) }}}}\": str.center() {LIMIT}"),
    ("printf width", "\"{{ '%999999999d' % 1 }}\"",
     f"{AT}: cannot render \"{{{{ '%999999999d' % 1 }}}}\": a % format width {LIMIT}"),
    ("format width", "\"{{ '{:>999999999}'.format(1) }}\"",
     f"{AT}: cannot render \"{{{{ '{{:>999999999}}'.format(1) }}}}\": a format width {LIMIT}"),
    ("replace blows up", "\"{{ ('a' * 100000) | replace('a', 'bbbbbbbbbbbbbbbbbbbb') }}\"",
     f"{AT}: cannot render \"{{{{ ('a' * 100000) | replace('a', 'bbbbbbbbbbbbbbbbbbbb') }}}}\": "
     f"replace {LIMIT}"),
    ("doubling macro", f'"{MACRO}"', cannot(MACRO, f"joined text {LIMIT}")),
    ("doubling namespace", "\"{% set ns = namespace(s='ab') %}{% for i in range(64) %}"
     "{% set ns.s = ns.s ~ ns.s %}{% endfor %}\"",
     f"{AT}: cannot render \"{{% set ns = namespace(s='ab') %}}{{% for i in range(64) %}}{{% "
     f"set ns.s = ns.s ~ ...\": joined text {LIMIT}"),
    ("endless recursion", '"{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}"',
     f"{AT}: cannot render '{{% macro f() %}}{{{{ f() }}}}{{% endmacro %}}{{{{ f() }}}}': "
     "macros or loops nest too deeply"),
    ("nested loops", '"{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}'
     '{% endfor %}"',
     f"{AT}: cannot render '{{% for i in range(100000) %}}{{% for j in range(100000) %}}{{% "
     "endfor %}{% endfor %}': the template took more than 1s, the limit for one template"),
    ("output too large", '"{% for i in range(100000) %}{{ \'x\' * 1000 }}{% endfor %}"',
     f"{AT}: cannot render \"{{% for i in range(100000) %}}{{{{ 'x' * 1000 }}}}{{% endfor "
     f"%}}\": the output {LIMIT}"),
    ("deep parentheses", '"{{ ' + "(" * 300 + "1" + ")" * 300 + ' }}"',
     f"{AT}: invalid template: it nests too deeply"),
    ("template too long", '"{{ 1 }}' + "x" * 100_000 + '"',
     f"{AT}: the template is longer than 100000 characters, the limit for one template"),
]


@pytest.mark.parametrize("value,expected", [(v, e) for _, v, e in CASES],
                         ids=[n for n, _, _ in CASES])
def test_each_hostile_template_is_an_error_at_its_place(ws, value, expected):
    ws.write("specs/main.yaml", DOCUMENT % value)
    for verb in ("validate", "plan"):
        result = ws.cli(verb)
        assert (result.exit_code, result.output) == \
            (1, f"Error: 1 error in the specs:\n  {expected}\n"), verb


def test_a_template_rendered_at_plan_time_names_its_resource_and_place(ws):
    ws.spec("""
        apiVersion: taskform/v1
        kind: Pipeline
        metadata: {name: p}
        spec:
          steps:
            a: {value: {input: 0}}
        """)
    assert ws.cli("apply", "-auto-approve").exit_code == 0
    ws.spec("""
        apiVersion: taskform/v1
        kind: Pipeline
        metadata: {name: p}
        spec:
          steps:
            a: {value: {input: 0}}
            b: {value: {input: "{{ 1 / steps.a.value }}"}}
        """)
    result = ws.cli("plan")
    assert (result.exit_code, result.output) == (1, (
        "Error: pipeline.p.b (specs/main.yaml:7:5): cannot render '{{ 1 / steps.a.value }}': "
        "division by zero\n"))


def test_templates_share_one_budget_per_load():
    budget = Budget(seconds=0.2)
    slow = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
    with pytest.raises(TemplateProblem) as first:
        render(slow, Scope(var={}, budget=budget))
    with pytest.raises(TemplateProblem) as second:
        render("{{ 1 }}", Scope(var={}, budget=budget))
    assert str(first.value).endswith(": the templates of this run took more than 0.2s altogether")
    assert str(second.value) == ("cannot render '{{ 1 }}': the templates of this run took more "
                                 "than 0.2s altogether")


def test_a_captured_block_filling_memory_is_stopped():
    # appends to a captured block pass no hook: the memory meter stops them; the time limit is
    # raised here so that a slow machine cannot reach it first
    with pytest.raises(TemplateProblem) as err:
        render(CAPTURE, Scope(var={}, budget=Budget(render_seconds=120)))
    assert str(err.value) == (f"cannot render {CAPTURE[:77] + '...'!r}: the template used more "
                              f"than {RENDER_MEMORY_MB} MB of memory, the limit for one template")


def test_output_of_a_load_is_budgeted_altogether():
    budget = Budget(chars=15)
    assert render("{{ 'x' * 10 }}", Scope(var={}, budget=budget)) == "x" * 10
    with pytest.raises(TemplateProblem) as err:
        render("{{ 'y' * 10 }}", Scope(var={}, budget=budget))
    assert str(err.value) == ("cannot render \"{{ 'y' * 10 }}\": the templates of this run made "
                              "more than 15 characters altogether")


def test_ordinary_templates_still_work():
    scope = Scope(var={"names": ["a", "b"], "n": 3, "s": "x"})
    assert render("{{ var.names | join(', ') }}|{{ var.s * var.n }}|{{ '%03d' % var.n }}|"
                  "{% for n in var.names %}{{ loop.index }}{{ n | upper }}{% endfor %}|"
                  "{{ '{:>4}'.format(var.s) }}|{{ var.names | map('upper') | list }}|"
                  "{% set ns = namespace(t='') %}{% for i in range(3) %}{% set ns.t = ns.t ~ i %}"
                  "{% endfor %}{{ ns.t }}|{{ range(3) | sum }}", scope) == \
        "a, b|xxx|003|1A2B|   x|['A', 'B']|012|3"
