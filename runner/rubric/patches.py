"""What a patch touches, read from its text: paths (with renames, copies and git's quoted
names), the files it adds, and the held-out and harness files among them. The rules that
refuse a solution are in `patch_rules`."""

from __future__ import annotations

import fnmatch
import re
import sys

# Files that decide how tests run rather than what they test (SWE-bench #631: a lone
# conftest.py made every test pass). Matched against each touched path's file name.
DEFAULT_PROTECTED = ("conftest.py", "sitecustomize.py", "usercustomize.py", "*.pth", "pytest.ini")

_GIT_HEADER = re.compile(r"^diff --git (.+)$")
_OLD_NEW = re.compile(r"^(?:---|\+\+\+) (.+)$")
_HUNK = re.compile(r"^@@ -\d+(?:,(\d+))? \+\d+(?:,(\d+))? @@")
_RENAME_COPY = re.compile(r"^(?:rename|copy) (?:from|to) (.+)$")
_ESCAPES = {"a": "\a", "b": "\b", "t": "\t", "n": "\n", "v": "\v", "f": "\f", "r": "\r",
            '"': '"', "\\": "\\"}


def touched_paths(patch: str) -> set[str]:
    """Every path a patch creates, changes, deletes, renames or copies (without a/ and b/)."""
    paths: set[str] = set()
    old = new = 0  # lines left in the current hunk: its body is content, never a header
    for line in patch.splitlines():
        if (old > 0 or new > 0) and line[:1] in (" ", "-", "+", "\\", ""):
            old -= line[:1] in (" ", "-", "")
            new -= line[:1] in (" ", "+", "")
            continue
        if (hunk := _HUNK.match(line)) is not None:
            old, new = int(hunk.group(1) or 1), int(hunk.group(2) or 1)
        elif (header := _GIT_HEADER.match(line)) is not None:
            paths.update(_git_header_paths(header.group(1)))
        elif (match := _OLD_NEW.match(line)) is not None:
            paths.update(strip_prefix(unquote(match.group(1).split("\t")[0].rstrip())))
        elif (match := _RENAME_COPY.match(line)) is not None:
            paths.add(unquote(match.group(1)))
    paths.discard("")
    return paths


def _git_header_paths(rest: str) -> set[str]:
    """`a/x b/x` (quoted when names are unusual); ambiguous spaces are split where both halves
    name the same file, which is the common case."""
    if rest.startswith('"'):
        first, remainder = take_quoted(rest)
        return strip_prefix(first) | strip_prefix(unquote(remainder.strip()))
    for i, char in enumerate(rest):
        if char == " " and rest[i + 1:].startswith("b/") and rest[2:i] == rest[i + 3:]:
            return {rest[2:i]}
    parts = rest.split(" ")
    return strip_prefix(parts[0]) | strip_prefix(parts[-1]) if len(parts) == 2 else set()


def strip_prefix(path: str) -> set[str]:
    if path == "/dev/null":
        return set()
    return {path.split("/", 1)[1] if "/" in path else path}


def take_quoted(text: str) -> tuple[str, str]:
    """The C-quoted string at the start of `text`, and what follows it."""
    out, i = [], 1
    while i < len(text) and text[i] != '"':
        if text[i] == "\\" and i + 1 < len(text):
            if text[i + 1:i + 4].isdigit():
                out.append(chr(int(text[i + 1:i + 4], 8)))
                i += 4
                continue
            out.append(_ESCAPES.get(text[i + 1], text[i + 1]))
            i += 2
            continue
        out.append(text[i])
        i += 1
    raw = "".join(out)
    # git quotes bytes as octal escapes: reassemble them as UTF-8
    return raw.encode("latin-1", "ignore").decode("utf-8", "replace"), text[i + 1:]


def unquote(path: str) -> str:
    return take_quoted(path)[0] if path.startswith('"') else path


def held_out_conflicts(solution_patch: str, tests_patch: str) -> list[str]:
    """Held-out test files the solution patch also touches."""
    return sorted(touched_paths(solution_patch) & touched_paths(tests_patch))


def held_out_packages(solution_patch: str, tests_patch: str) -> list[str]:
    """`__init__.py` files of the packages holding held-out tests that the solution touches:
    Python runs them before the tests, so they could rig every test (the tests patch's own
    files are `held_out_conflicts`)."""
    tests = touched_paths(tests_patch)
    inits = {f"{'/'.join(p.split('/')[:n])}/__init__.py" for p in tests
             for n in range(1, p.count("/") + 1)}
    return sorted((touched_paths(solution_patch) & inits) - tests)


def protected_touched(solution_patch: str, protected: tuple[str, ...] = DEFAULT_PROTECTED
                      ) -> list[str]:
    """Touched paths whose file name matches a protected pattern (`conftest.py`, `*.pth`)."""
    return sorted(p for p in touched_paths(solution_patch)
                  if any(fnmatch.fnmatchcase(p.rsplit("/", 1)[-1], pat) for pat in protected))


def added_paths(patch: str) -> set[str]:
    """The paths a patch creates (new files, and the targets of renames and copies)."""
    added: set[str] = set()
    old = None
    for line in patch.splitlines():
        if line.startswith("--- "):
            old = line[4:].split("\t")[0].rstrip()
        elif line.startswith("+++ ") and old == "/dev/null":
            added |= strip_prefix(unquote(line[4:].split("\t")[0].rstrip()))
        elif (match := re.match(r"^(?:rename|copy) to (.+)$", line)) is not None:
            added.add(unquote(match.group(1)))
    return added


def stdlib_shadows(solution_patch: str) -> list[str]:
    """New top-level modules named like a standard-library one (`unittest.py`, `json/`): with
    the work dir first on sys.path (`python3 -m ...`), they would run instead of it."""
    found = []
    for path in added_paths(solution_patch):
        top = path.split("/", 1)[0]
        name = top[:-3] if top.endswith(".py") and "/" not in path else top
        if "/" in path and not path.endswith(f"{top}/__init__.py"):
            continue
        if name in sys.stdlib_module_names:
            found.append(path)
    return sorted(found)

