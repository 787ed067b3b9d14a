"""The solutions a rubric step grades: candidate patches (`solution1.patch` → `solution1`), the
golden (reference) patch and the original (no patch), in column order; and task-sync's file
lists read back into those roles."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath

from runner.rubric.results import solution_order
from runner.rubric.score import GOLDEN, ORIGINAL

HELD_OUT_NAME = "held_out_tests.patch"
GOLDEN_NAME = "golden.patch"
PRE_PATCH_NAME = "pre_patch.patch"
RUBRIC_NAMES = ("rubrics.json", "TASK_DATA.md")
_CANDIDATE = re.compile(r"^solution[\w.-]*\.patch$")


@dataclass(frozen=True)
class Solution:
    """One column of the matrix. `patch` is relative to the task folder; None: the original."""

    name: str
    patch: str | None


def patch_name(path: str) -> str:
    """`patches/solution2.patch` → `solution2`."""
    name = PurePosixPath(path).name
    return name[:-len(".patch")] if name.endswith(".patch") else name


def candidates(declared: list[str] | Mapping[str, str]) -> list[Solution]:
    """Candidate solutions as declared: a list of patch files, or {name: patch file}."""
    pairs = list(declared.items()) if isinstance(declared, Mapping) else \
        [(patch_name(p), p) for p in declared]
    seen: dict[str, str] = {}
    for name, path in pairs:
        if name in (GOLDEN, ORIGINAL):
            raise ValueError(f"solution name {name!r} is reserved: use golden: <patch> for the "
                             "reference patch; the original is graded with original: true")
        if name in seen:
            raise ValueError(f"two solutions are named {name!r} ({seen[name]} and {path})")
        seen[name] = path
    return [Solution(n, p) for n, p in sorted(pairs, key=lambda pair: solution_order(pair[0]))]


def discovered(names: Iterable[str]) -> list[str]:
    """The `solution*.patch` files among a folder's file names, in natural order."""
    return sorted((n for n in names if _CANDIDATE.match(n)), key=lambda n: solution_order(n))


def columns(candidate: list[Solution], golden: str | None, original: bool) -> list[Solution]:
    """Every column: candidates, then golden, then original."""
    out = list(candidate)
    if golden is not None:
        out.append(Solution(GOLDEN, golden))
    if original:
        out.append(Solution(ORIGINAL, None))
    return out


@dataclass
class TaskSyncFiles:
    """task-sync's `files` (a map of file name to hash, or a list): which patches exist."""

    solutions: list[str]
    golden: str | None
    held_out_tests: str | None
    pre_patch: str | None


def classify_files(files: Iterable[str], rubric_file: str | None = None) -> TaskSyncFiles:
    """Sort task-sync's file names into roles; ValueError names a file it cannot place."""
    out = TaskSyncFiles([], None, None, None)
    for path in files:
        name = PurePosixPath(path).name
        if _CANDIDATE.match(name):
            out.solutions.append(path)
        elif name == GOLDEN_NAME:
            out.golden = path
        elif name == HELD_OUT_NAME:
            out.held_out_tests = path
        elif name == PRE_PATCH_NAME:
            out.pre_patch = path
        elif name not in RUBRIC_NAMES and path != rubric_file:
            raise ValueError(f"cannot tell what {path!r} is: expected solutionN.patch, "
                             f"{GOLDEN_NAME}, {HELD_OUT_NAME}, {PRE_PATCH_NAME} or the rubric "
                             "file")
    out.solutions.sort(key=lambda p: solution_order(patch_name(p)))
    return out
