"""Jinja2 templating of spec values: sandboxed, StrictUndefined, with references found statically.

A string value may use `{{ var.name }}`, `{{ steps.<step>.<output> }}` and
`{{ ref("<address>").<output> }}`. References become graph edges. A value that reads an output
not known until apply renders as UNKNOWN, shown as `(known after apply)`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from runner.errors import TaskformError
from runner.spec.interpolate import NOT_PLAIN
from runner.spec.interpolate import WHOLE_EXPRESSION as _WHOLE_EXPRESSION
from runner.spec.interpolate import parse as plain_template
from runner.vocabulary import UNKNOWN

if TYPE_CHECKING:
    from jinja2 import nodes

# Jinja2 is imported on first use (runner/spec/sandbox.py): plain interpolation, which most
# templates are, is read and rendered by runner/spec/interpolate.py without it, and a plan
# that renders nothing else never loads it.

GLOBAL_NAMES = frozenset({"var", "steps", "ref"})


class TemplateProblem(TaskformError):
    """A template that cannot be parsed or rendered."""


@dataclass(frozen=True)
class Refs:
    """What one template reads."""

    vars: frozenset[str] = frozenset()
    steps: frozenset[str] = frozenset()
    addresses: frozenset[str] = frozenset()


@dataclass
class Scope:
    """The names a template sees. `outputs(address)` returns a resource's outputs or UNKNOWN."""

    var: Mapping[str, Any]
    steps: Mapping[str, Any] = field(default_factory=dict)
    outputs: Callable[[str], Any] = lambda address: UNKNOWN
    step_address: Callable[[str], str] = lambda name: name


def is_template(value: Any) -> bool:
    return isinstance(value, str) and ("{{" in value or "{%" in value)


# analyses read back from the spec cache (loadedcache): a template Jinja2 must parse to analyse
# is parsed once per change of the file that holds it, not once per run
_analysed: dict[str, Refs] = {}


def remember(text: str, refs: Refs) -> None:
    """Take `refs` as the analysis of `text` (what `analyse` gave for it under this code)."""
    _analysed[text] = refs


@lru_cache(maxsize=8192)
def analyse(text: str) -> Refs:
    """The variables, sibling steps and addresses a template reads; raise TemplateProblem."""
    plain = plain_template(text)
    if plain is not None:
        return Refs(plain.names("var"), plain.names("steps"), plain.names("ref"))
    if text in _analysed:
        return _analysed[text]
    from jinja2 import TemplateError, nodes
    from jinja2.meta import find_undeclared_variables

    from runner.spec.sandbox import ENV as _env

    try:
        ast = _env.parse(text)
    except TemplateError as exc:
        raise TemplateProblem(f"invalid template: {exc.message}") from None
    unknown = find_undeclared_variables(ast) - GLOBAL_NAMES
    if unknown:
        raise TemplateProblem(f"unknown name {sorted(unknown)[0]!r} in template: templates can "
                              "use var.<name>, steps.<step>.<output> and ref(\"<address>\")")
    found: dict[str, set[str]] = {"var": set(), "steps": set()}
    addresses: set[str] = set()
    used_names = 0
    for node in ast.find_all((nodes.Getattr, nodes.Getitem)):
        assert isinstance(node, (nodes.Getattr, nodes.Getitem))
        target = node.node
        if isinstance(target, nodes.Name) and target.name in found:
            key = node.attr if isinstance(node, nodes.Getattr) else _const(node.arg)
            if key is None:
                raise TemplateProblem(f"{target.name}[...] needs a literal name")
            found[target.name].add(key)
            used_names += 1
    for call in ast.find_all(nodes.Call):
        if isinstance(call.node, nodes.Name) and call.node.name == "ref":
            arg = _const(call.args[0]) if len(call.args) == 1 and not call.kwargs else None
            if arg is None:
                raise TemplateProblem('ref() takes one literal address, like ref("pipeline.app.build")')
            addresses.add(arg)
    bare = sum(1 for n in ast.find_all(nodes.Name) if n.name in found)
    if bare > used_names:
        raise TemplateProblem("use var.<name> or steps.<step>, not var or steps alone")
    return Refs(frozenset(found["var"]), frozenset(found["steps"]), frozenset(addresses))


def _const(node: nodes.Node) -> str | None:
    from jinja2 import nodes

    return node.value if isinstance(node, nodes.Const) and isinstance(node.value, str) else None


def refs_of(value: Any) -> Refs:
    """The union of the references of every template inside a (nested) value."""
    vars_: set[str] = set()
    steps: set[str] = set()
    addresses: set[str] = set()
    for text in iter_templates(value):
        r = analyse(text)
        vars_ |= r.vars
        steps |= r.steps
        addresses |= r.addresses
    return Refs(frozenset(vars_), frozenset(steps), frozenset(addresses))


def iter_templates(value: Any) -> list[str]:
    if isinstance(value, (dict, list)):
        text = repr(value)  # one pass in C: most settings hold no template at all
        if "{{" not in text and "{%" not in text:
            return []
    out: list[str] = []
    stack = [value]
    while stack:  # runs over every setting of every resource of a plan: kept tight
        item = stack.pop()
        if isinstance(item, str):
            if "{" in item and ("{{" in item or "{%" in item):  # is_template, inlined
                out.append(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return out


def render(value: Any, scope: Scope) -> Any:
    """Render every template in a (nested) value. A string reading an unknown output is UNKNOWN."""
    if isinstance(value, str):
        return render_text(value, scope) if is_template(value) else value
    if isinstance(value, dict):
        return {k: render(v, scope) for k, v in value.items()}
    if isinstance(value, list):
        return [render(v, scope) for v in value]
    return value


def render_text(text: str, scope: Scope) -> Any:
    refs = analyse(text)
    steps = {name: scope.outputs(scope.step_address(name)) for name in refs.steps}
    if any(v is UNKNOWN for v in steps.values()):
        return UNKNOWN
    if any(scope.outputs(a) is UNKNOWN for a in refs.addresses):
        return UNKNOWN
    plain = plain_template(text)
    if plain is not None:
        value = plain.render(scope.var, steps, scope.outputs)
        if value is not NOT_PLAIN:
            return value
    from jinja2 import TemplateError, Undefined

    context = {"var": scope.var, "steps": steps, "ref": _ref_function(scope)}
    try:
        whole = _WHOLE_EXPRESSION.match(text)
        if whole:
            result = _expression(whole.group("expr"))(**context)
            if isinstance(result, Undefined):
                result._fail_with_undefined_error()
            if not isinstance(result, (str, int, float, bool, list, dict, type(None))):
                result = str(result)  # plain data only; str() also reports unset variables
            return result
        return _template(text).render(**context)
    except TemplateError as exc:
        raise TemplateProblem(f"cannot render {text!r}: {exc.message}") from None


def evaluate(expression: str, scope: Scope) -> Any:
    """Evaluate a `when:` condition (bare expression or one `{{ }}`); UNKNOWN if not yet known."""
    whole = _WHOLE_EXPRESSION.match(expression)
    text = expression if whole else "{{ " + expression + " }}"
    return render_text(text, scope)


def _ref_function(scope: Scope) -> Callable[[str], Any]:
    def ref(address: str) -> Any:
        return scope.outputs(address)
    return ref


@lru_cache(maxsize=4096)
def _expression(source: str) -> Any:
    from jinja2 import TemplateError

    from runner.spec.sandbox import ENV as _env

    try:
        return _env.compile_expression(source, undefined_to_none=False)
    except TemplateError as exc:
        raise TemplateProblem(f"invalid expression {source.strip()!r}: {exc.message}") from None


@lru_cache(maxsize=4096)
def _template(source: str) -> Any:
    from runner.spec.sandbox import ENV as _env

    return _env.from_string(source)


def contains_unknown(value: Any) -> bool:
    if value is UNKNOWN:
        return True
    if isinstance(value, dict):
        return any(contains_unknown(v) for v in value.values())
    if isinstance(value, list):
        return any(contains_unknown(v) for v in value)
    return False
