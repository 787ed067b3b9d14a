"""A parsed rubric: criteria, each with a held-out test command, and the hashes that identify
them. The same shape comes out of `rubrics.json` and `TASK_DATA.md`."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Literal

# how a grading set isolates its gradings, and how a criterion's results are read
Isolation = Literal["fresh", "reuse"]
ResultsFormat = Literal["auto", "markers", "junit", "go-json"]


@dataclass(frozen=True)
class Criterion:
    """One rubric item. `id` is stable across edits (the rubric id, else the header id);
    `counter` is its number in the file (task-sync's "Rubric N")."""

    id: str
    counter: int
    score: float
    required: bool
    criterion: str
    command: str
    title: str = ""  # the Markdown header label (`#1`, `crit-01`); empty for rubrics.json
    line: int = 0  # where it starts in its file

    @property
    def hash(self) -> str:
        """What decides this criterion's gradings: score, required, text and command."""
        return _digest({"score": self.score, "required": self.required,
                        "criterion": self.criterion, "command": self.command})

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "counter": self.counter, "score": self.score,
                "required": self.required, "criterion": self.criterion,
                "command": self.command, "title": self.title}


@dataclass(frozen=True)
class Rubric:
    """Every criterion of one rubric file, in file order."""

    source: str  # the file it was read from, as given (e.g. `TASK_DATA.md`)
    criteria: tuple[Criterion, ...]

    @property
    def hash(self) -> str:
        """Changes whenever any criterion, or their order, changes."""
        return _digest([c.to_dict() for c in self.criteria])

    @property
    def total(self) -> float:
        return sum(c.score for c in self.criteria)

    def get(self, criterion_id: str) -> Criterion | None:
        return next((c for c in self.criteria if c.id == criterion_id), None)

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "hash": self.hash,
                "criteria": [c.to_dict() for c in self.criteria]}


def _digest(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def format_score(value: float) -> str:
    """`3` for whole numbers, `2.5` otherwise: scores read as people wrote them."""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"
