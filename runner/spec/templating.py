"""Jinja2 templating of spec values: sandboxed, StrictUndefined, with references found statically.

A string value may use `{{ var.name }}`, `{{ steps.<step>.<output> }}` and
`{{ ref("<address>").<output> }}`. References become graph edges. A value that reads an output
not known until apply renders as UNKNOWN, shown as `(known after apply)`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from runner.errors import TaskformError
from runner.spec.budget import Budget, BudgetExceeded, sized
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
MAX_TEMPLATE_CHARS = 100_000  # compiling is not metered: its cost grows with the text


@lru_cache(maxsize=1)
def _environment() -> Any:
    """The sandboxed, metered Jinja2 environment (runner/spec/sandbox.py), loaded on first use."""
    from jinja2 import StrictUndefined

    from runner.spec.sandbox import SpecEnvironment

    return SpecEnvironment(undefined=StrictUndefined, autoescape=False,
                           keep_trailing_newline=True)


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
    budget: Budget = field(default_factory=Budget)  # share one across a load, or a plan


def is_template(value: Any) -> bool:
    return isinstance(value, str) and ("{{" in value or "{%" in value)


# analyses read back from the spec cache (loadedcache): a template Jinja2 must parse to analyse
# is parsed once per change of the file that holds it, not once per run; kept as read (`[text,
# vars, steps, addresses]`) until asked for: a plan whose memos all come from its book asks for
# none of 5,000
_analysed: dict[str, list[Any]] = {}


_unread: list[Callable[[], Any]] = []  # more of them, read when a text is missing


def remember(analyses: list[list[Any]]) -> None:
    """Take each `[text, vars, steps, addresses]` of `analyses` as what `analyse` gave for the
    text under this code."""
    _analysed.update((row[0], row) for row in analyses)


def remember_later(read: Callable[[], Any]) -> None:
    """`remember` what `read()` gives (analyses, or None), when a text is first missing (a
    long-lived process keeps the latest few: one that is dropped is only analysed afresh)."""
    _unread.append(read)
    del _unread[:-4]


def _remembered(text: str) -> Refs | None:
    row = _analysed.get(text)
    if row is None and _unread:
        for read in _unread:
            try:
                remember(read() or [])
            except (TypeError, IndexError, KeyError):
                pass  # not that layout: what it held is analysed afresh
        _unread.clear()
        row = _analysed.get(text)
    if row is None:
        return None
    try:
        _, read_vars, read_steps, read_addresses = row
        return Refs(frozenset(read_vars), frozenset(read_steps), frozenset(read_addresses))
    except (TypeError, ValueError):  # not the layout `remember` takes: analyse it afresh
        return None


@lru_cache(maxsize=8192)
def analyse(text: str) -> Refs:
    """The variables, sibling steps and addresses a template reads; raise TemplateProblem."""
    if len(text) > MAX_TEMPLATE_CHARS:
        raise TemplateProblem(f"the template is longer than {MAX_TEMPLATE_CHARS} characters, "
                              "the limit for one template")
    known = _remembered(text)
    if known is not None:
        return known
    plain = plain_template(text)
    if plain is not None:
        return Refs(plain.names("var"), plain.names("steps"), plain.names("ref"))
    from jinja2 import TemplateError, nodes
    from jinja2.meta import find_undeclared_variables

    _env = _environment()
    try:
        ast = _env.parse(text)
    except TemplateError as exc:
        raise TemplateProblem(f"invalid template: {exc.message}{_line(text, exc)}") from None
    except RecursionError:
        raise TemplateProblem("invalid template: it nests too deeply") from None
    _check_statements(ast, text)
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


def _check_statements(ast: nodes.Template, text: str) -> None:
    """What the sandbox would fail on only while rendering, or not at all: files read by
    include/import/extends, filters and tests that do not exist or are refused."""
    from jinja2 import nodes

    from runner.spec.sandbox import REFUSED_FILTERS

    _env = _environment()
    reads_files = {nodes.Include: "include", nodes.Import: "import", nodes.FromImport: "from",
                   nodes.Extends: "extends"}
    for node in ast.find_all((nodes.Include, nodes.Import, nodes.FromImport, nodes.Extends)):
        raise TemplateProblem(f"{{% {reads_files[type(node)]} %}} is not available in spec "
                              f"templates: a template cannot read other files{_line(text, node)}")
    for used in ast.find_all((nodes.Filter, nodes.Test)):
        assert isinstance(used, (nodes.Filter, nodes.Test))
        what = "filter" if isinstance(used, nodes.Filter) else "test"
        if used.name in REFUSED_FILTERS and what == "filter":
            raise TemplateProblem(f"the {used.name} filter is not available in spec templates: "
                                  f"{REFUSED_FILTERS[used.name]}{_line(text, used)}")
        if used.name not in (_env.filters if what == "filter" else _env.tests):
            raise TemplateProblem(f"unknown {what} {used.name!r}{_line(text, used)}")


def _line(text: str, where: Any) -> str:
    """` (line N of the template)` for a template of several lines."""
    lineno = getattr(where, "lineno", None)
    return f" (line {lineno} of the template)" if lineno and "\n" in text.strip() else ""


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
            try:
                scope.budget.spend(len(value) if isinstance(value, str) else 0)
            except BudgetExceeded as exc:
                raise TemplateProblem(f"cannot render {text[:77]!r}: {exc}") from None
            return value
    context = {"var": scope.var, "steps": steps, "ref": _ref_function(scope)}
    try:
        with scope.budget.rendering():
            result = _render_metered(text, context)
        scope.budget.spend(len(result) if isinstance(result, str) else 0)
        return result
    except TaskformError:
        raise  # a variable reading an unset environment variable says so itself
    except Exception as exc:  # noqa: BLE001  (the template is the user's code: any error is theirs)
        shown = text if len(text) <= 80 else text[:77] + "..."
        reason = _reason(exc)  # may quote the user's data, of any length
        reason = reason if len(reason) <= 300 else reason[:297] + "..."
        raise TemplateProblem(f"cannot render {shown!r}: {reason}") from None


def _render_metered(text: str, context: dict[str, Any]) -> Any:
    from jinja2 import Undefined

    from runner.spec.sandbox import rendered

    whole = _WHOLE_EXPRESSION.match(text)
    if whole:
        result = sized(_expression(whole.group("expr"))(**context), "the result")
        if isinstance(result, Undefined):
            result._fail_with_undefined_error()
        if not isinstance(result, (str, int, float, bool, list, dict, type(None))):
            result = str(result)  # plain data only; str() also reports unset variables
        return result
    template = _template(text)
    return rendered(template.root_render_func(template.new_context(context)))


def _reason(exc: Exception) -> str:
    from jinja2 import TemplateError

    if isinstance(exc, TemplateError):
        return exc.message or type(exc).__name__
    if isinstance(exc, BudgetExceeded):
        return str(exc)
    known = {ZeroDivisionError: "division by zero", OverflowError: "a number too large",
             RecursionError: "macros or loops nest too deeply", MemoryError: "out of memory"}
    for kind, reason in known.items():
        if isinstance(exc, kind):
            return reason
    return f"{type(exc).__name__}: {exc}"


def evaluate(expression: str, scope: Scope) -> Any:
    """Evaluate a `when:` condition (bare expression or one `{{ }}`); UNKNOWN if not yet known."""
    return render_text(condition_template(expression), scope)


def condition_template(expression: str) -> str:
    """A `when:` condition as the template it is evaluated as, so that loading finds the same
    references (edges, dangling names) that evaluating it reads."""
    return expression if _WHOLE_EXPRESSION.match(expression) else "{{ " + expression + " }}"


def _ref_function(scope: Scope) -> Callable[[str], Any]:
    def ref(address: str) -> Any:
        return scope.outputs(address)
    return ref


@lru_cache(maxsize=4096)
def _expression(source: str) -> Any:
    from jinja2 import TemplateError

    from runner.spec.sandbox import harden

    _env = _environment()

    try:
        expression = _env.compile_expression(source, undefined_to_none=False)
    except TemplateError as exc:
        raise TemplateProblem(f"invalid expression {source.strip()!r}: {exc.message}") from None
    harden(expression._template.root_render_func)
    return expression


@lru_cache(maxsize=4096)
def _template(source: str) -> Any:
    from runner.spec.sandbox import harden, metered

    env = _environment()
    template = env.from_string(metered(env.parse(source), env))
    harden(template.root_render_func)
    return template


def contains_unknown(value: Any) -> bool:
    if value is UNKNOWN:
        return True
    if isinstance(value, dict):
        return any(contains_unknown(v) for v in value.values())
    if isinstance(value, list):
        return any(contains_unknown(v) for v in value)
    return False


_OUTPUTS = re.compile(r"\{\{(?P<expr>(?:(?!\{\{|\}\}).)*)\}\}", re.S)


def expression_values(text: str, scope: Scope) -> list[Any]:
    """The value of each `{{ }}` of a template on its own (to know what a template derived from
    a secret: `{{ var.token | upper }}` gives the upper-cased token, wherever it ends up).
    Expressions that cannot be evaluated alone (inside loops) are left out."""
    values = []
    for match in _OUTPUTS.finditer(text):
        try:
            values.append(render_text("{{" + match.group("expr") + "}}", scope))
        except TemplateProblem:
            continue
    return values
