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


def test_a_remembered_analysis_is_what_analyse_gives_and_a_malformed_one_is_redone(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The spec cache's analyses are kept as read and turned into Refs when asked for; a row
    that is not `[text, vars, steps, addresses]` is analysed afresh, never trusted half-read."""
    from runner.spec import templating

    monkeypatch.setattr(templating, "_analysed", {})
    texts = ["{{ var.a }}-{{ steps.b.c }}", "{{ ref('pipeline.p.x').y | upper }}",
             "{% if var.z %}{{ var.q }}{% endif %}"]
    fresh = {text: analyse(text) for text in texts}
    analyse.cache_clear()
    templating.remember([[t, ["v"], ["s"], ["pipeline.p.r"]] for t in texts[:1]] + [
        [texts[1], "not", "a", "row", "at all"], [texts[2], 1, 2, 3]])
    assert analyse(texts[0]) == Refs(frozenset({"v"}), frozenset({"s"}),
                                     frozenset({"pipeline.p.r"}))  # taken as remembered
    assert analyse(texts[1]) == fresh[texts[1]]
    assert analyse(texts[2]) == fresh[texts[2]]
    analyse.cache_clear()
