"""The one exception family. The CLI boundary maps each to a message and an exit code."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


class TaskformError(Exception):
    """Base of every error taskform reports to the user (exit code 1, no traceback)."""

    exit_code = 1


@dataclass(frozen=True)
class SpecIssue:
    """One problem in one place of one file."""

    file: str
    line: int
    col: int
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.col}"
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class SpecError(TaskformError):
    """Specs or workspace settings that do not validate; carries every issue of the load."""

    def __init__(self, issues: list[SpecIssue]):
        self.issues = sorted(issues, key=lambda i: (i.file, i.line, i.col, i.message))
        count = len(self.issues)
        head = f"{count} error{'s' if count != 1 else ''} in the specs:"
        super().__init__("\n".join([head, *(f"  {i}" for i in self.issues)]))


@dataclass(frozen=True)
class RubricIssue:
    """One problem in a rubric file (`rubrics.json` or `TASK_DATA.md`), at a line."""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


class RubricError(TaskformError):
    """A rubric that does not parse; carries every problem of the file at once."""

    def __init__(self, file: str, issues: list[RubricIssue]):
        self.file = file
        self.issues = sorted(issues, key=lambda i: (i.line, i.message))
        count = len(self.issues)
        head = f"{count} error{'s' if count != 1 else ''} in rubric {file}:"
        super().__init__("\n".join([head, *(f"  {i}" for i in self.issues)]))


class WorkspaceError(TaskformError):
    """No workspace, or a path that escapes it."""


class StateError(TaskformError):
    """The state store cannot be opened or is inconsistent."""


class StateLocked(StateError):
    """Another run holds the state lock."""


class PlanError(TaskformError):
    """A plan cannot be made (prevent_destroy, bad selection, render failure)."""


class StalePlan(PlanError):
    """A saved plan no longer matches the state or the specs it was made from."""


class ApplyRefused(TaskformError):
    """Apply was not confirmed."""


class ProviderError(TaskformError):
    """A real part (Docker engine, SSH host, LLM endpoint, git) is unreachable or refused."""


class StepFailed(Exception):
    """Raised by a kind when its resource failed: a result, carried with its output."""

    def __init__(self, message: str, *, output: str = "", exit_code: int | None = None,
                 command: str | None = None, retryable: bool = True):
        super().__init__(message)
        self.message = message
        self.output = output
        self.exit_code = exit_code
        self.command = command
        self.retryable = retryable


class StepTimeout(StepFailed):
    """The step ran past its deadline and was killed."""

    def __init__(self, message: str, *, output: str = ""):
        super().__init__(message, output=output, retryable=False)


class Cancelled(Exception):
    """Raised inside a kind when the run was cancelled (second Ctrl-C)."""


class NotStarted(Exception):
    """Raised inside a kind that was still waiting to begin its work (for a container of a
    pool, say) when the run began stopping (first Ctrl-C, --fail-fast): nothing was done, so
    nothing is recorded and the next apply runs it."""


def display_path(path: Path, root: Path) -> str:
    """A path relative to the workspace root when inside it, else absolute."""
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)
