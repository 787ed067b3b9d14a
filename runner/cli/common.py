"""What the verbs share: the app context, selection and lock options, confirmation, signals.

Kept light: heavy modules are imported inside functions so `taskform --help` starts fast."""

from __future__ import annotations

import json
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from runner.connections import Connections
    from runner.plan import Plan, PlanOptions
    from runner.state.base import StateStore
    from runner.workspace import Workspace

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class App:
    workspace_dir: str = "."
    no_color: bool = False
    _ws: Workspace | None = field(default=None, repr=False)

    @property
    def workspace(self) -> Workspace:
        if self._ws is None:
            from runner.workspace import open_workspace

            self._ws = open_workspace(self.workspace_dir)
        return self._ws

    def color(self, stream: Any = None) -> bool:
        from runner.report.plan_text import use_color

        return not self.no_color and use_color(stream or sys.stdout)

    @contextmanager
    def session(self) -> Iterator[tuple[StateStore, Connections]]:
        """The state store and the connections, closed afterwards."""
        from runner.connections import Connections
        from runner.state import open_state

        state = open_state(self.workspace)
        connections = Connections()
        try:
            yield state, connections
        finally:
            connections.close()
            state.close()


pass_app = click.make_pass_decorator(App)


def selection_options(func: F) -> F:
    """-target / -exclude / -replace / -l, in Terraform's single-dash and double-dash forms."""
    options = [
        click.option("-target", "--target", "targets", multiple=True, metavar="ADDR",
                     help="Only this address (or prefix) and what it depends on. Repeatable."),
        click.option("-exclude", "--exclude", "excludes", multiple=True, metavar="ADDR",
                     help="Leave out this address (or prefix) and what depends on it. Repeatable."),
        click.option("-replace", "--replace", "replace", multiple=True, metavar="ADDR",
                     help="Force this address to be replaced. Repeatable."),
        click.option("-l", "--label", "labels", multiple=True, metavar="KEY=VALUE",
                     help="Only resources whose metadata labels match (and their dependencies)."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def lock_option(func: F) -> F:
    return click.option("-lock-timeout", "--lock-timeout", "lock_timeout", default="0s",
                        metavar="DURATION",
                        help="Wait this long for the state lock (e.g. 30s) instead of failing "
                             "at once.")(func)


def parallelism_option(func: F) -> F:
    return click.option("-parallelism", "--parallelism", "parallelism", type=click.IntRange(1, 256),
                        default=None, help="How many resources to apply at once (default: "
                                           "taskform.yaml's parallelism, 10).")(func)


def json_option(func: F) -> F:
    return click.option("--json", "-json", "as_json", is_flag=True,
                        help="Machine-readable JSON output.")(func)


def plan_format_options(func: F) -> F:
    """--format text|markdown|json (markdown: a pull-request comment), --json for json, and
    --title for the Markdown heading."""
    func = json_option(func)
    func = click.option("--title", "-title", "title", default="taskform plan", show_default=True,
                        help="The heading of the Markdown output.")(func)
    return click.option("--format", "-format", "output_format", default="text",
                        type=click.Choice(["text", "markdown", "json"]), show_default=True,
                        help="How to show the plan; markdown is a pull-request comment body "
                             "(cut to GitHub's 65,536 characters).")(func)


def echo_plan(plan: Plan, output_format: str, as_json: bool, color: bool,
              title: str = "taskform plan") -> None:
    """Print a (redacted) plan as text, Markdown or JSON."""
    if as_json or output_format == "json":
        from runner import plan_json

        echo_json(plan_json.to_json(plan))
    elif output_format == "markdown":
        from runner.report.plan_markdown import render_markdown

        click.echo(render_markdown(plan, title=title), nl=False)
    else:
        from runner.report.plan_text import render_plan

        click.echo(render_plan(plan, color=color), nl=False)


def plan_options(targets: tuple[str, ...], excludes: tuple[str, ...], replace: tuple[str, ...],
                 labels: tuple[str, ...], destroy_all: bool = False) -> PlanOptions:
    from runner.address import parse_address
    from runner.plan import PlanOptions

    def addresses(flag: str, values: tuple[str, ...]) -> tuple[Any, ...]:
        out = []
        for value in values:
            try:
                out.append(parse_address(value))
            except ValueError as exc:
                raise click.BadParameter(str(exc), param_hint=flag) from None
        return tuple(out)

    pairs = []
    for label in labels:
        key, sep, value = label.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"expected KEY=VALUE, got {label!r}", param_hint="-l")
        pairs.append((key, value))
    return PlanOptions(targets=addresses("-target", targets),
                       excludes=addresses("-exclude", excludes),
                       replace=addresses("-replace", replace), labels=tuple(pairs),
                       destroy_all=destroy_all)


def seconds(value: str, flag: str) -> float:
    from runner.duration import parse_duration

    try:
        return parse_duration(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint=flag) from None


def echo_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, default=str, sort_keys=False))


def confirm(question: str, auto_approve: bool, what: str) -> None:
    """Ask for `yes` on a terminal; refuse without -auto-approve when stdin is not one."""
    from runner.errors import ApplyRefused

    if auto_approve:
        return
    if not sys.stdin.isatty():
        raise ApplyRefused(f"{what} needs confirmation, but stdin is not a terminal: pass "
                           "-auto-approve (or apply a saved plan file)")
    click.echo(question)
    answer = click.prompt("  Only 'yes' will be accepted", default="", show_default=False)
    if answer.strip() != "yes":
        raise ApplyRefused(f"{what} cancelled: the answer was not 'yes'")


@contextmanager
def interrupts(handler: Callable[[], None]) -> Iterator[None]:
    """Route SIGINT and SIGTERM to `handler` for the duration (graceful stop, then cancel)."""
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}

    def on_signal(signum: int, frame: Any) -> None:
        handler()

    for sig in previous:
        signal.signal(sig, on_signal)
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
