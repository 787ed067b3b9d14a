"""The Jinja2 environment spec templates run in: the immutable sandbox without loaders or
nondeterminism, where every way to spend time or memory is metered (`budget.py`).

Jinja2's sandbox stops attribute escapes, not cost: `'a' * 10**10`, `'x'|center(10**9)`, nested
loops or a macro doubling its argument would run until memory or patience ran out. Here the
operators that can grow a value (`*`, `**`, `%`, `+`) are intercepted, calls and filters whose
result can outgrow their input are checked before they run, every loop step, call, attribute,
join and output chunk ticks the clock, and what anything makes is checked for size.
"""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from jinja2 import nodes
from jinja2.exceptions import SecurityError
from jinja2.runtime import Context, markup_join
from jinja2.sandbox import MAX_RANGE, ImmutableSandboxedEnvironment
from jinja2.utils import Namespace

from runner.spec.budget import (
    INT_BITS,
    OUTPUT_CHARS,
    BudgetExceeded,
    check_size,
    sized,
    tick,
    too_large,
)

LOOP_GUARD = "_taskform_loop"
REFUSED_FILTERS = {"random": "its result changes from one plan to the next"}
_WIDTH_PARAMS = ("width", "linecount", "slices", "indent", "tabsize")
_PRINTF = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(\*|\d+)?(?:\.(\*|\d+))?")
_FORMAT_FIELD = re.compile(r"\{[^{}]*\}")


class SpecEnvironment(ImmutableSandboxedEnvironment):
    """Keys before attributes (an output named `items` is the output, not the dict method),
    and the meters described above."""

    intercepted_binops = frozenset({"*", "**", "%", "+"})

    def __init__(self, **options: Any):
        super().__init__(**options)
        self.filters = {name: _guarded_filter(name, func) for name, func in self.filters.items()
                        if name not in REFUSED_FILTERS}
        self.globals.pop("lipsum", None)  # text by the page: nothing a spec needs
        self.globals["namespace"] = _Namespace
        self.globals["range"] = _range
        self.globals[LOOP_GUARD] = _loop

    def getattr(self, obj: Any, attribute: str) -> Any:
        tick()
        if isinstance(obj, dict) and attribute in obj:
            return obj[attribute]
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        tick()
        return super().getitem(obj, argument)

    def call(self, context: Context, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
        tick()
        args = _checked_method(obj, args, kwargs)
        return sized(super().call(context, obj, *args, **kwargs), "the result of a call")

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        tick()
        _check_binop(operator, left, right)
        return sized(super().call_binop(context, operator, left, right),
                     f"the result of {operator}")

    @staticmethod
    def concat(items: Iterable[str]) -> str:  # Jinja2's is "".join
        return _joined(items)


def metered(ast: nodes.Template, env: SpecEnvironment) -> nodes.Template:
    """`ast` with every loop's iterable passed through LOOP_GUARD, which ticks at each step: a
    loop whose body calls nothing would otherwise never reach a hook."""
    for loop in ast.find_all(nodes.For):
        guard = nodes.Call(nodes.Name(LOOP_GUARD, "load"), [loop.iter], [], None, None,
                           lineno=loop.lineno)
        loop.iter = guard.set_environment(env)
    return ast


def harden(render_func: Callable[..., Any]) -> None:
    """Make the joins a compiled template does (`~`, captured blocks) check their size."""
    namespace = render_func.__globals__
    namespace["str_join"] = _str_join
    namespace["markup_join"] = _markup_join


def rendered(chunks: Iterable[str]) -> str:
    """A template's output, refused as soon as it grows past the limit."""
    parts, size = [], 0
    for chunk in chunks:  # no tick here: what makes chunks (loops, calls) ticks already
        size += len(chunk)
        if size > OUTPUT_CHARS:
            raise too_large("the output")
        parts.append(chunk)
    return "".join(parts)


def _range(*args: int) -> range:
    numbers = range(*args)
    if len(numbers) > MAX_RANGE:
        raise BudgetExceeded(f"range() would make more than {MAX_RANGE} numbers, the limit in "
                             "a template")
    return numbers


def _loop(iterable: Iterable[Any]) -> Iterator[Any]:
    for item in iterable:
        tick()
        yield item


def _joined(items: Iterable[str]) -> str:
    parts = list(items)
    check_size(sum(len(p) for p in parts), "joined text")
    tick()
    return "".join(parts)


def _str_join(seq: Iterable[Any]) -> str:
    return _joined([str(item) for item in seq])


def _markup_join(seq: Iterable[Any]) -> str:
    parts = list(seq)
    check_size(sum(len(str(p)) for p in parts), "joined text")
    return str(markup_join(parts))


class _Namespace(Namespace):
    """`namespace()`, whose attributes are the one thing a loop can grow step by step."""

    def __setitem__(self, name: str, value: Any) -> None:
        tick()
        super().__setitem__(name, sized(value, f"namespace attribute {name!r}"))


def _check_binop(operator: str, left: Any, right: Any) -> None:
    if operator == "*":
        for seq, times in ((left, right), (right, left)):
            if isinstance(seq, (str, list, tuple)) and isinstance(times, int):
                check_size(len(seq) * max(times, 0), "repeating a value with *")
        if isinstance(left, int) and isinstance(right, int):
            _check_bits(left.bit_length() + right.bit_length(), "*")
    elif operator == "**":
        if isinstance(left, int) and isinstance(right, int) and right > 0 and abs(left) > 1:
            _check_bits(left.bit_length() * right, "**")
    elif operator == "%" and isinstance(left, str):
        _check_printf(left, right)
    elif operator == "+" and isinstance(left, (str, list, tuple)) and isinstance(right, type(left)):
        check_size(len(left) + len(right), "the result of +")


def _check_bits(bits: int, operator: str) -> None:
    if bits > INT_BITS:
        raise BudgetExceeded(f"the result of {operator} would have more than {INT_BITS} bits, "
                             "the limit in a template")


def _check_printf(text: str, args: Any) -> None:
    """`%` formatting makes what its widths say: refuse widths past the limit."""
    values = args if isinstance(args, tuple) else (args,)
    for match in _PRINTF.finditer(text):
        for width in match.groups():
            if width == "*":
                for value in values:
                    if isinstance(value, int):
                        check_size(value, "a % format width")
            elif width:
                check_size(int(width), "a % format width")


def _check_format(text: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """str.format's widths: in the text, or (nested fields) in the arguments."""
    for field in _FORMAT_FIELD.finditer(text):
        spec = field.group().partition(":")[2]
        for digits in re.findall(r"\d+", spec):
            check_size(int(digits), "a format width")
    if re.search(r"\{[^{}]*\{", text):
        for value in (*args, *kwargs.values()):
            if isinstance(value, int):
                check_size(value, "a format width")


def _checked_method(obj: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...]:
    """The arguments for a call of `obj`, after checking str methods whose result can be
    much larger than the text they are called on."""
    target = getattr(obj, "__wrapped__", obj)  # the sandbox wraps str.format
    text = getattr(target, "__self__", None)
    if not isinstance(text, str):
        return args
    name = getattr(target, "__name__", "")
    if name in ("center", "ljust", "rjust", "zfill") and args and isinstance(args[0], int):
        check_size(args[0], f"str.{name}()")
    elif name == "expandtabs":
        size = args[0] if args else kwargs.get("tabsize", 8)
        check_size(len(text) * (size if isinstance(size, int) else 8), "str.expandtabs()")
    elif name == "join" and args:
        items = list(args[0])
        check_size(sum(len(i) for i in items if isinstance(i, str)) + len(text) * len(items),
                   "str.join()")
        return (items, *args[1:])
    elif name == "replace" and len(args) >= 2:
        _check_replace(text, args[0], args[1], args[2] if len(args) > 2 else -1)
    elif name in ("format", "format_map"):
        _check_format(text, args, kwargs)
    elif name == "translate":
        raise SecurityError("str.translate is not available in spec templates")
    return args


def _check_replace(text: str, old: Any, new: Any, count: Any) -> None:
    if not (isinstance(old, str) and isinstance(new, str)) or len(new) <= len(old):
        return
    found = text.count(old) if old else len(text) + 1
    if isinstance(count, int) and count >= 0:
        found = min(found, count)
    check_size(len(text) + found * (len(new) - len(old)), "replace")


def _guarded_filter(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    signature = inspect.signature(func)
    checked = name in _FILTER_CHECKS or any(p in signature.parameters for p in _WIDTH_PARAMS)

    @functools.wraps(func)  # keeps Jinja2's pass_context/pass_eval_context marks
    def guarded(*args: Any, **kwargs: Any) -> Any:
        tick()
        if checked:
            bound = signature.bind(*args, **kwargs)
            _check_filter(name, bound.arguments)
            args, kwargs = bound.args, bound.kwargs
        return sized(func(*args, **kwargs), f"the result of the {name} filter")
    return guarded


def _check_filter(name: str, arguments: dict[str, Any]) -> None:
    for param in _WIDTH_PARAMS:
        if isinstance(arguments.get(param), int):
            check_size(arguments[param], f"the {name} filter's {param}")
    check = _FILTER_CHECKS.get(name)
    if check:
        check(arguments)


def _join_filter(arguments: dict[str, Any]) -> None:
    items = arguments["value"] = list(arguments["value"])
    separator = str(arguments.get("d", ""))
    if arguments.get("attribute") is None:
        check_size(sum(len(str(i)) for i in items) + len(separator) * len(items), "join")


def _indent_filter(arguments: dict[str, Any]) -> None:
    width, text = arguments.get("width", 4), str(arguments["s"])
    if isinstance(width, str):
        check_size(len(text) + (text.count("\n") + 1) * len(width), "indent")


def _wordwrap_filter(arguments: dict[str, Any]) -> None:
    text, wrap = str(arguments["s"]), arguments.get("wrapstring") or "\n"
    width = arguments.get("width", 79)
    lines = len(text) // max(width if isinstance(width, int) else 79, 1) + 1
    check_size(len(text) + lines * len(str(wrap)), "wordwrap")


def _sum_filter(arguments: dict[str, Any]) -> None:
    # summing lists or text copies the whole so far at every step
    if not isinstance(arguments.get("start", 0), (int, float)):
        raise SecurityError("sum adds numbers; join text or lists with join")


_FILTER_CHECKS: dict[str, Callable[[dict[str, Any]], None]] = {
    "join": _join_filter,
    "indent": _indent_filter,
    "wordwrap": _wordwrap_filter,
    "sum": _sum_filter,
    "replace": lambda a: _check_replace(str(a["s"]), a["old"], a["new"], a.get("count")),
    "format": lambda a: _check_printf(str(a["value"]), tuple(a.get("args", ()))),
}
