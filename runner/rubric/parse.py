"""Find and read a task's rubric: `rubrics.json` when present (it wins), else `TASK_DATA.md`."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, runtime_checkable

from runner.errors import RubricError, RubricIssue, TaskformError
from runner.rubric.jsonfile import parse_json
from runner.rubric.markdown import parse_markdown
from runner.rubric.model import Rubric

JSON_NAME = "rubrics.json"
MARKDOWN_NAME = "TASK_DATA.md"


class RubricNotFound(TaskformError):
    """Neither rubric file exists."""


@runtime_checkable
class NamesRubric(Protocol):
    """Settings that read a rubric file: `validate` parses it before any plan."""

    def rubric_files(self) -> list[str]:
        """Where the rubric may be (workspace-relative), the first existing one read."""


def parse_rubric(text: str, file: str) -> Rubric:
    """Parse rubric text; the format follows the name (`.json`, else Markdown)."""
    if file.lower().endswith(".json"):
        return parse_json(text, file)
    return parse_markdown(text, file)


def find_rubric(directory: Path, json_name: str = JSON_NAME,
                markdown_name: str = MARKDOWN_NAME) -> Path:
    """The rubric file of a task folder: `rubrics.json` wins over `TASK_DATA.md`."""
    for name in (json_name, markdown_name):
        if (directory / name).is_file():
            return directory / name
    raise RubricNotFound(f"no rubric in {directory}: expected {json_name} or {markdown_name}")


def load_rubric(path: Path, display: str | None = None) -> Rubric:
    """Read and parse one rubric file; `display` is the name errors use (default: the path)."""
    shown = display or str(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RubricError(shown, [RubricIssue(shown, 1, f"not UTF-8 text ({exc.reason} at byte "
                                                        f"{exc.start})")]) from None
    except OSError as exc:
        raise RubricNotFound(f"cannot read rubric {shown}: {exc.strerror}") from None
    return parse_rubric(text, shown)
