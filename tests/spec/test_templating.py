"""Templates: references found statically, unknown outputs, native values, the sandbox."""

from __future__ import annotations

import pytest

from runner.spec.templating import Refs, Scope, TemplateProblem, analyse, evaluate, render
from runner.vocabulary import UNKNOWN


def test_references_are_found_statically():
    assert analyse('{{ var.a }} {{ steps.b.out }} {{ ref("pipeline.x.y").z }} {{ steps["c"].d }}') \
        == Refs(frozenset({"a"}), frozenset({"b", "c"}), frozenset({"pipeline.x.y"}))


@pytest.mark.parametrize("text,message", [
    ("{{ env.HOME }}", "unknown name 'env' in template: templates can use var.<name>, "
                       "steps.<step>.<output> and ref(\"<address>\")"),
    ("{{ ref(var.a) }}", 'ref() takes one literal address, like ref("pipeline.app.build")'),
    ("{{ steps[var.x] }}", "steps[...] needs a literal name"),
    ("{{ steps }}", "use var.<name> or steps.<step>, not var or steps alone"),
    ("{{ var.a ", "invalid template: unexpected end of template, expected 'end of print "
                  "statement'."),
])
def test_bad_templates(text, message):
    with pytest.raises(TemplateProblem) as err:
        analyse(text)
    assert str(err.value) == message


def scope(outputs):
    return Scope(var={"n": 2, "name": "x"}, outputs=lambda a: outputs.get(a, UNKNOWN),
                 step_address=lambda s: f"pipeline.p.{s}")


def test_render_native_values_and_text():
    s = scope({"pipeline.p.a": {"items": [1, 2]}})
    assert render({"k": "{{ steps.a.items }}", "t": "n={{ var.n }}", "l": ["{{ var.n * 2 }}"]}, s) \
        == {"k": [1, 2], "t": "n=2", "l": [4]}


def test_a_value_reading_an_unknown_output_is_unknown():
    s = scope({})
    assert render({"k": "{{ steps.a.x }}", "other": "{{ var.name }}"}, s) == \
        {"k": UNKNOWN, "other": "x"}
    assert evaluate("steps.a.ok", s) is UNKNOWN


def test_when_expressions():
    s = scope({"pipeline.p.a": {"ok": True}})
    assert evaluate("steps.a.ok and var.n > 1", s) is True
    assert evaluate("{{ var.n == 3 }}", s) is False


def test_sandbox_blocks_attribute_escapes():
    with pytest.raises(TemplateProblem, match="unsafe"):
        render("{{ var.name.__class__.__mro__ }}", scope({}))
