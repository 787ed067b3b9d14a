"""Progress of an apply: one line per event when not on a terminal; a live panel with counts and
the slowest running steps when on one."""

from __future__ import annotations

import sys
import threading
import time
from typing import Any, TextIO

from runner.vocabulary import Action, Outcome, StepStatus

ING = {"create": "creating", "update": "updating", "replace": "replacing", "destroy": "destroying"}
ED = {"create": "created", "update": "updated", "replace": "replaced", "destroy": "destroyed"}
OUTPUT_LINES_SHOWN = 20


def describe(outcome: Outcome) -> str:
    took = f" [{outcome.seconds:.1f}s]" if outcome.seconds >= 0.05 else ""
    if outcome.status == StepStatus.DONE:
        retried = f" after {outcome.attempts} attempts" if outcome.attempts > 1 else ""
        return f"{ED[outcome.action.value]}{retried}{took}"
    if outcome.status == StepStatus.UNCHANGED:
        return "unchanged: its inputs were the same once its dependencies were applied"
    if outcome.status == StepStatus.SKIPPED:
        return f"skipped: {outcome.message}"
    if outcome.status == StepStatus.BLOCKED:
        return f"not applied: {outcome.message}"
    if outcome.status == StepStatus.NOT_STARTED:
        return f"not started: {outcome.message or 'the run stopped'}"
    return f"FAILED{took}: {outcome.message}"


class LineProgress:
    """Plain lines, for logs and CI."""

    def __init__(self, stream: TextIO | None = None, verbose: bool = False):
        self.stream = stream or sys.stdout
        self.verbose = verbose
        self.lock = threading.RLock()  # the Ctrl-C handler prints from the main thread too

    def _print(self, text: str) -> None:
        with self.lock:
            self.stream.write(text + "\n")
            self.stream.flush()

    def start(self, total: int) -> None:
        pass

    def add_total(self, more: int) -> None:
        pass

    def began(self, address: str, action: Action) -> None:
        self._print(f"{address}: {ING.get(action.value, action.value)}...")

    def log(self, address: str, line: str) -> None:
        if self.verbose:
            self._print(f"{address}: | {line}")

    def finished(self, outcome: Outcome) -> None:
        if outcome.status is StepStatus.BLOCKED and not self.verbose:
            return  # said once per failure, in the summary: not once per dependent
        self._print(f"{outcome.address}: {describe(outcome)}")
        if outcome.status == StepStatus.FAILED and outcome.output:
            lines = outcome.output.rstrip("\n").splitlines()
            shown = lines[-OUTPUT_LINES_SHOWN:]
            if len(lines) > len(shown):
                self._print(f"  | ... ({len(lines) - len(shown)} earlier lines in "
                            f"`taskform state show {outcome.address}`)")
            for line in shown:
                self._print(f"  | {line}")

    def note(self, text: str) -> None:
        self._print(text)

    def close(self) -> None:
        pass


class LiveProgress(LineProgress):
    """Finished lines scroll above a live panel: counts and the slowest running steps."""

    def __init__(self, console: Any):
        super().__init__(console.file)
        from rich.live import Live

        self.console = console
        self.total = 0
        self.counts = {"done": 0, "failed": 0, "other": 0}
        self.running: dict[str, tuple[float, Action, str]] = {}
        self.live = Live(console=console, refresh_per_second=8, transient=True,
                         get_renderable=self._render)

    def _print(self, text: str) -> None:
        self.console.print(text, markup=False, highlight=False)

    def _render(self) -> Any:
        from rich.table import Table
        from rich.text import Text

        with self.lock:
            running = sorted(self.running.items(), key=lambda kv: kv[1][0])[:5]
            counts = dict(self.counts)
            total_running = len(self.running)
        finished = sum(counts.values())
        table = Table.grid(padding=(0, 1))
        # Text objects, not markup strings: prints above the panel may switch markup off
        table.add_row(Text.assemble((f"{finished}/{self.total}", "bold"), " finished: ",
                                    f"{counts['done']} done, ",
                                    (f"{counts['failed']} failed", "red"),
                                    f", {total_running} running"))
        now = time.monotonic()
        for address, (since, action, last) in running:
            line = Text(f"  {ING.get(action.value, '')} {address} [{now - since:.0f}s]")
            if last:
                line.append(f"  {last[:60]}", style="dim")
            table.add_row(line)
        return table

    def start(self, total: int) -> None:
        self.total = total
        self.live.start()

    def add_total(self, more: int) -> None:
        self.total += more

    def began(self, address: str, action: Action) -> None:
        with self.lock:
            self.running[address] = (time.monotonic(), action, "")

    def log(self, address: str, line: str) -> None:
        with self.lock:
            if address in self.running:
                since, action, _ = self.running[address]
                self.running[address] = (since, action, line.strip())

    def finished(self, outcome: Outcome) -> None:
        with self.lock:
            self.running.pop(outcome.address, None)
            key = outcome.status if outcome.status in ("done", "failed") else "other"
            self.counts[key] += 1
        super().finished(outcome)

    def close(self) -> None:
        self.live.stop()
