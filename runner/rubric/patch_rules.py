"""What a solution may change. A solution patch is refused before anything runs (an `ERROR`
naming the path and the rule) when what git would really do with it (`patch_files`) touches
the held-out tests or the harness, adds compiled bytecode, a path configuration file, a
symbolic link, a submodule or binary content, adds a module whose import name shadows the
standard library, the test framework or a held-out test module, or touches a path outside
`solution_paths`.

Each rule closes a way to make tests pass without solving anything: Python loads `.pyc` files
and extension modules before (or instead of) sources, runs `.pth` files at start-up, and
imports the first module of a name it finds, so a file added next to the tests can replace
them; a symbolic link can point a test at anything."""

from __future__ import annotations

import fnmatch
import functools
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass

from runner.providers.git import apply_numstat
from runner.rubric.patch_files import (
    GITLINK_MODE,
    SYMLINK_MODE,
    FileChange,
    disagreement,
    file_changes,
    with_binary,
)
from runner.rubric.patches import DEFAULT_PROTECTED

# what runs the tests: a module of these names in the work dir could replace it
FRAMEWORK_MODULES = frozenset({"unittest", "pytest", "_pytest", "pluggy", "py", "iniconfig",
                               "doctest", "taskform_unittest", "taskform_evidence"})
MODULE_SUFFIXES = (".py", ".pyw", ".pyc", ".pyo", ".so", ".pyd")
BYTECODE = ("*.pyc", "*.pyo")
PATH_CONFIG = ("*.pth",)


@dataclass(frozen=True)
class PatchRules:
    """The rules a step sets: protected harness file names, and the globs of paths a
    solution may touch (empty: any path)."""

    protected: tuple[str, ...] = DEFAULT_PROTECTED
    solution_paths: tuple[str, ...] = ()


def refusal(solution_patch: str | None, tests_patch: str,
            rules: PatchRules = PatchRules()) -> str | None:
    """Why a solution must not be graded at all (an ERROR without running), or None."""
    if not solution_patch:
        return None
    try:
        changes = read_patch(solution_patch)
    except ValueError as exc:
        return f"patch does not apply: {exc}"
    tests = file_changes(tests_patch)
    for check in (_held_out, _harness, _files, _shadows, _outside):
        why = check(changes, tests, rules)
        if why is not None:
            return why
    return None


@functools.lru_cache(maxsize=128)  # a solution is read once, not once per criterion
def read_patch(patch: str) -> list[FileChange]:
    """The patch's files as git will apply them; ValueError when git cannot read it or reads
    other paths than its headers name."""
    numstat = apply_numstat(patch)
    changes = file_changes(patch)
    differs = disagreement(changes, [e.path for e in numstat])
    if differs is not None:
        raise ValueError(f"the patch is ambiguous: {differs}")
    return with_binary(changes, [e.path for e in numstat if e.binary])


def _held_out(changes: list[FileChange], tests: list[FileChange], rules: PatchRules) -> str | None:
    held = set().union(*(t.paths for t in tests)) if tests else set()
    touched = _touched(changes)
    conflicts = sorted(touched & held)
    if conflicts:
        return "solution modifies held-out tests: " + ", ".join(conflicts)
    inits = {f"{'/'.join(p.split('/')[:n])}/__init__.py" for p in held
             for n in range(1, p.count("/") + 1)}
    packages = sorted((touched & inits) - held)
    if packages:
        return "solution modifies the package of the held-out tests: " + ", ".join(packages)
    return None


def _harness(changes: list[FileChange], tests: list[FileChange], rules: PatchRules) -> str | None:
    found = sorted(p for p in _touched(changes) if _named(p, rules.protected))
    if found:
        return ("solution modifies test-harness files: " + ", ".join(found)
                + f" (protected: {', '.join(rules.protected)})")
    return None


def _files(changes: list[FileChange], tests: list[FileChange], rules: PatchRules) -> str | None:
    touched = _touched(changes)
    rules_found = [
        ("adds compiled bytecode (Python would load it instead of the source)",
         [p for p in touched if _named(p, BYTECODE) or "__pycache__" in p.split("/")]),
        ("adds a path configuration file (site runs it at start-up)",
         [p for p in touched if _named(p, PATH_CONFIG)]),
        ("adds a symbolic link", [c.final for c in changes if c.new and c.mode == SYMLINK_MODE]),
        ("adds a submodule", [c.final for c in changes if c.new and c.mode == GITLINK_MODE]),
        ("adds binary content", [c.final for c in changes if c.new and c.binary]),
    ]
    for rule, paths in rules_found:
        if paths:
            return f"solution {rule}: {', '.join(sorted(paths))}"
    return None


def _shadows(changes: list[FileChange], tests: list[FileChange], rules: PatchRules) -> str | None:
    held = held_out_modules(t.new for t in tests if t.new)
    stdlib, framework, tested = [], [], []
    for change in changes:
        name = import_name(change.added) if change.added else None
        if name is None:
            continue
        top = name.split(".")[0]
        if name in held:
            tested.append(f"{change.added} ({name})")
        elif "." not in name and (top in FRAMEWORK_MODULES or top.startswith("taskform")):
            framework.append(change.added or "")
        elif "." not in name and top in sys.stdlib_module_names:
            stdlib.append(change.added or "")
    if tested:
        return "solution adds a module that shadows a held-out test module: " + ", ".join(tested)
    if framework:
        return ("solution adds a module named like the test framework, which the work dir "
                "would shadow: " + ", ".join(sorted(framework)))
    if stdlib:
        return ("solution adds a module named like one of Python's standard library, which the "
                "work dir would shadow: " + ", ".join(sorted(stdlib)))
    return None


def _outside(changes: list[FileChange], tests: list[FileChange], rules: PatchRules) -> str | None:
    if not rules.solution_paths:
        return None
    outside = sorted(p for p in _touched(changes)
                     if not any(glob_match(g, p) for g in rules.solution_paths))
    if outside:
        return (f"solution touches paths outside solution_paths "
                f"({', '.join(rules.solution_paths)}): {', '.join(outside)}")
    return None


def import_name(path: str) -> str | None:
    """The dotted name Python imports a module file by from the work dir (`pkg/mod.py` ->
    `pkg.mod`, `pkg/__init__.py` -> `pkg`); None for a file that is not a module."""
    suffix = next((s for s in MODULE_SUFFIXES if path.endswith(s)), None)
    if suffix is None:
        return None
    parts = path[:-len(suffix)].split("/")
    name = parts[-1].split(".")[0]  # `mod.cpython-311-x86_64-linux-gnu.so` is `mod`
    parts = parts[:-1] if name == "__init__" else [*parts[:-1], name]
    if not parts or not all(p.isidentifier() for p in parts):
        return None
    return ".".join(parts)


def held_out_modules(paths: Iterable[str]) -> set[str]:
    """The import names of the held-out test modules and every package above them."""
    names: set[str] = set()
    for path in paths:
        name = import_name(path)
        if name is None:
            continue
        parts = name.split(".")
        names.update(".".join(parts[:n]) for n in range(1, len(parts) + 1))
    return names


def default_solution_paths(golden_patch: str | None) -> tuple[str, ...]:
    """What a solution may touch when the step does not say: the top-level folders the golden
    patch touches (`durations/**`), and the top-level files it touches themselves."""
    if not golden_patch:
        return ()
    found = set()
    for path in _touched(file_changes(golden_patch)):
        top, sep, _ = path.partition("/")
        found.add(f"{top}/**" if sep else top)
    return tuple(sorted(found))


def glob_match(pattern: str, path: str) -> bool:
    """Path globs: `*` and `?` within one segment, `**` across any number of segments."""
    return re.fullmatch(_glob_regex(pattern.strip("/")), path) is not None


def _glob_regex(pattern: str) -> str:
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return "".join(out)


def _touched(changes: list[FileChange]) -> set[str]:
    return set().union(*(c.paths for c in changes)) if changes else set()


def _named(path: str, patterns: Iterable[str]) -> bool:
    return any(fnmatch.fnmatchcase(path.rsplit("/", 1)[-1], p) for p in patterns)
