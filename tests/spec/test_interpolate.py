"""The fast path for plain interpolation gives Jinja2's results and errors, case by case.

Every case is analysed and rendered twice: as taskform does (plain interpolation without Jinja2
where it can) and with the fast path switched off (Jinja2 only). Both must agree on the value
or on the error's type and whole message, and each case says which way the fast path went, so
a fast path that quietly declined everything would fail here too."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from runner.errors import WorkspaceError
from runner.spec import interpolate, templating
from runner.spec.documents import protect
from runner.spec.templating import Scope, TemplateProblem, analyse, evaluate, render_text
from runner.vocabulary import UNKNOWN
from runner.workspace import Unset

FAST, FALLBACK, JINJA = "fast", "fallback", "jinja"  # rendered here; parsed here, rendered by
# Jinja2 (a miss, an odd type: Jinja2 words it); not plain at all

VARIABLES: dict[str, Any] = {
    "name": "app", "count": 3, "flag": True, "none": None, "ratio": 0.1, "big": 1e20,
    "huge": 2 ** 70, "list": [1, "a", {"k": "v"}], "map": {"key": "v", "a b": 1, "items": 7},
    "plain_map": {"key": "v"}, "tuple": (1, 2), "unset": Unset("unset", "NOT_SET_ANYWHERE"),
    "if": "keyword", "näme": "unicode", "braces": "{{ not rendered }}",
    "nested": {"list": [{"k": "deep"}]},
}
OUTPUTS: dict[str, Any] = {
    "pipeline.app.build": {"image_id": "sha256:1f", "tags": ["a:1", "a:2"], "values": "v",
                           "nested": {"deep": {"value": 5}}, "exit_code": 0},
    "pipeline.app.pool[0]": {"container_id": "c0"},
    'task.x["c1","s1"]': {"score": 1.5},
    "pipeline.app.skipped": {},
}

CASES: list[tuple[str, str]] = [
    ("{{ var.name }}", FAST), ("{{var.name}}", FAST), ("  {{ var.count }}\n", FAST),
    ("{{ var.name }}\n", FAST), ("n={{ var.count }}", FAST), ("{{ var.count }}", FAST),
    ("{{ var.flag }}", FAST), ("x{{ var.flag }}", FAST), ("{{ var.none }}", FAST),
    ("[{{ var.none }}]", FAST), ("{{ var.ratio }}", FAST), ("r={{ var.ratio }}", FAST),
    ("{{ var.big }} {{ var.huge }}", FAST), ("{{ var.list }}", FAST), ("l={{ var.list }}", FAST),
    ("{{ var.map }}", FAST), ("m={{ var.map }}", FAST), ("{{ var.map.key }}", FAST),
    ('{{ var.map["key"] }}', FAST), ("{{ var['name'] }}", FAST), ("{{ var.map['a b'] }}", FAST),
    ("{{ var.map.items }}", FAST), ("{{ var.list[0] }}", FAST), ("{{ var.list[2].k }}", FAST),
    ("{{ var.nested.list[0].k }}", FAST), ("{{ var.if }}", FAST), ("{{ var.braces }}", FAST),
    ("a\n{{ var.name }}\n", FAST), ("{{ var.name }}{{ var.count }}", FAST),
    ("{{ var.name }} }} {", FAST), ("{{\n var.name\n}}", FAST),
    ("{{ steps.build.image_id }}", FAST), ("img: {{ steps.build.image_id }}!", FAST),
    ("{{ steps.build }}", FAST), ("{{ steps.build.tags[1] }}", FAST),
    ("{{ steps.build.values }}", FAST), ("{{ steps.build.nested.deep.value }}", FAST),
    ('{{ steps["build"].exit_code }}', FAST), ("{{ steps.pending.x }}", FAST),
    ('{{ ref("pipeline.app.pool[0]").container_id }}', FAST),
    ("{{ ref('task.x[\"c1\",\"s1\"]').score }}", FAST), ('{{ ref("pipeline.app.gone").x }}', FAST),
    ('{{ ref("pipeline.app.build") }}', FAST), ("{{ true }}", FAST), ("{{ False }}", FAST),
    ("{% raw %}{{ not a template }}{% endraw %}", FAST),
    # parsed as plain, but only Jinja2 knows the answer or the words of the error
    ("{{ var.missing }}", FALLBACK), ("{{ var.plain_map.items }}", FALLBACK),
    ("{{ var.map.nokey }}", FALLBACK), ("{{ var.list[5] }}", FALLBACK),
    ("{{ var.name.upper }}", FALLBACK), ("{{ var.tuple }}", FALLBACK),
    ("t={{ var.tuple }}", FALLBACK), ("{{ var.unset }}", FALLBACK), ("x {{ var.unset }}", FALLBACK),
    ("{{ steps.build.missing }}", FALLBACK), ("{{ steps.skipped.value }}", FALLBACK),
    ("{{ steps.build.image_id.x }}", FALLBACK), ("{{ var.name.__class__.__mro__ }}", FALLBACK),
    ("{{ var.list.k }}", FALLBACK), ("{{ var.map[\"it's\"] }}", FALLBACK), ('{{ var.list["0"] }}', FALLBACK),
    # not plain interpolation: Jinja2 alone
    ("{{ steps.build.image_id | upper }}", JINJA), ("{{ var.name ~ 'x' }}", JINJA),
    ("{{ var.count * 2 }}", JINJA), ("{% if var.flag %}y{% endif %}", JINJA),
    ("{# note #}{{ var.name }}", JINJA), ("x {{- var.name }}", JINJA), ("{{ var.name -}} x", JINJA),
    ("{{ var . name }}", JINJA), ("{{ var.list.0 }}", JINJA), ("{{ var.list[01] }}", JINJA),
    ('{{ var.map["k\\n"] }}', JINJA), ("{{ var.näme }}", JINJA), ("line\r\n{{ var.name }}", JINJA),
    ('{{ ref("a}}b").x }}', JINJA), ("{{ ref ('pipeline.app.build').x }}", JINJA),
    ("{{ var.list[-1] }}", JINJA), ("{{{ var.name }}", JINJA), ("{{ var.name }", JINJA),
    ("{{ var }}", JINJA), ("{{ var[0] }}", JINJA), ("{{ steps }}", JINJA),
    ("{{ foo.bar }}", JINJA), ("{{ ref(var.name).x }}", JINJA), ("{{ true }}x", JINJA),
    ("{{ steps.my-step.x }}", JINJA), (protect("{% endraw %}{{ x }}"), JINJA),
    (protect("{{ x }}"), FAST),
]


def scope() -> Scope:
    return Scope(var=VARIABLES, outputs=lambda address: OUTPUTS.get(address, UNKNOWN),
                 step_address=lambda step: f"pipeline.app.{step}")


def outcome(call: Callable[[], Any]) -> tuple[str, Any]:
    templating.analyse.cache_clear()
    try:
        return "value", call()
    except (TemplateProblem, WorkspaceError) as exc:
        return type(exc).__name__, str(exc)


def jinja_only(call: Callable[[], Any], monkeypatch: pytest.MonkeyPatch) -> tuple[str, Any]:
    with monkeypatch.context() as patch:
        patch.setattr(templating, "plain_template", lambda text: None)
        return outcome(call)


def way(text: str) -> str:
    plain = interpolate.parse(text)
    if plain is None:
        return JINJA
    s = scope()
    steps = {name: s.outputs(s.step_address(name)) for name in plain.names("steps")}
    addresses = [s.outputs(a) for a in plain.names("ref")]
    if any(v is UNKNOWN for v in [*steps.values(), *addresses]):
        return FAST  # unknown before either path looks
    return FALLBACK if plain.render(s.var, steps, s.outputs) is interpolate.NOT_PLAIN else FAST


@pytest.mark.parametrize("text,expected_way", CASES)
def test_both_paths_render_and_analyse_alike(text: str, expected_way: str,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    assert way(text) == expected_way
    for call in (lambda: render_text(text, scope()), lambda: analyse(text)):
        assert outcome(call) == jinja_only(call, monkeypatch)


@pytest.mark.parametrize("expression", ["var.flag", "{{ var.flag }}", "true", "false",
                                        "steps.build.exit_code", "steps.build.exit_code == 0",
                                        "steps.pending.ok", "var.missing"])
def test_when_conditions_alike(expression: str, monkeypatch: pytest.MonkeyPatch) -> None:
    def call() -> Any:
        return evaluate(expression, scope())

    assert outcome(call) == jinja_only(call, monkeypatch)


def test_the_cases_cover_values_unknowns_and_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    """The table above is worth something only if both paths meet every kind of result."""
    results = [outcome(lambda text=text: render_text(text, scope())) for text, _ in CASES]
    values = [value for what, value in results if what == "value"]
    assert {type(v) for v in values} >= {str, int, float, bool, type(None), list, dict}
    assert UNKNOWN in values
    assert {what for what, _ in results} == {"value", "TemplateProblem", "WorkspaceError"}


def test_a_plan_of_plain_templates_never_imports_jinja() -> None:
    import subprocess
    import sys

    code = ("import sys\nfrom runner.spec.templating import Scope, render\n"
            "print(render({'a': '{{ var.x }}-{{ steps.s.o }}'}, Scope(var={'x': 1}, "
            "outputs=lambda a: {'o': 2}, step_address=lambda s: s)))\n"
            "print('jinja2' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out == "{'a': '1-2'}\nFalse\n"
