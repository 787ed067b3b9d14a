"""What a build context sends: `.dockerignore` rules as the Docker SDK applies them when it
makes the context archive (`docker.utils.build.exclude_paths`), without importing the SDK.

A plan fingerprints a build by the files the engine would receive; importing the SDK only to
list them cost a `-refresh=false` plan a third of a second. These are the SDK's rules, adapted
from docker-py 7 (Apache-2.0, itself after moby's fileutils), including its quirks (matching
ignores case); `tests/providers/test_docker_ignore.py` checks them against the SDK itself.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from functools import lru_cache


def context_paths(root: str, patterns: list[str], dockerfile: str) -> set[str]:
    """Every path (files and folders, relative to `root`) that the patterns do not exclude;
    the Dockerfile and `.dockerignore` are always sent."""
    return set(_Matcher([*patterns, f"!{dockerfile}"]).walk(root))


class _Pattern:
    def __init__(self, text: str):
        self.exclusion = text.startswith("!")
        self.dirs = _normalize(text[1:] if self.exclusion else text)
        self.cleaned = "/".join(self.dirs)

    def match(self, path: str) -> bool:
        return _regex(self.cleaned.lower()).match(path.lower()) is not None


class _Matcher:
    def __init__(self, patterns: list[str]):
        self.patterns = [p for p in (_Pattern(t) for t in patterns) if p.dirs]
        self.patterns.append(_Pattern("!.dockerignore"))

    def matches(self, path: str) -> bool:
        matched = False
        parent = os.path.dirname(path)
        parent_dirs = _split(parent)
        for pattern in self.patterns:
            match = pattern.match(path)
            if not match and parent != "" and len(pattern.dirs) <= len(parent_dirs):
                match = pattern.match("/".join(parent_dirs[:len(pattern.dirs)]))
            if match:
                matched = not pattern.exclusion
        return matched

    def walk(self, root: str) -> Iterator[str]:
        def walk_in(current: str) -> Iterator[str]:
            for name in os.listdir(current):
                path = os.path.join(os.path.relpath(current, root), name)
                if path.startswith("./"):
                    path = path[2:]
                match = self.matches(path)
                if not match:
                    yield path
                full = os.path.join(root, path)
                if not os.path.isdir(full) or os.path.islink(full):
                    continue
                # an excluded folder is still entered when a `!` pattern reaches inside it
                if match and not any(p.exclusion and p.cleaned.startswith(path)
                                     for p in self.patterns):
                    continue
                yield from walk_in(full)
        return walk_in(root)


def _split(path: str) -> list[str]:
    return [part for part in path.split("/") if part and part != "."]


def _normalize(text: str) -> list[str]:
    """Trailing spaces, leading and trailing slashes and `.` go; `..` takes its predecessor."""
    parts = _split(text.strip())
    i = 0
    while i < len(parts):
        if parts[i] == "..":
            del parts[i]
            if i > 0:
                del parts[i - 1]
                i -= 1
        else:
            i += 1
    return parts


@lru_cache(maxsize=256)
def _regex(pattern: str) -> re.Pattern[str]:
    """The SDK's shell-pattern translation: `*` within a folder, `**` across folders."""
    i, n, out = 0, len(pattern), "^"
    while i < n:
        c = pattern[i]
        i += 1
        if c == "*":
            if i < n and pattern[i] == "*":
                i += 1
                if i < n and pattern[i] == "/":
                    i += 1
                out += ".*" if i >= n else "(.*/)?"
            else:
                out += "[^/]*"
        elif c == "?":
            out += "[^/]"
        elif c == "[":
            j = i
            if j < n and pattern[j] == "!":
                j += 1
            if j < n and pattern[j] == "]":
                j += 1
            while j < n and pattern[j] != "]":
                j += 1
            if j >= n:
                out += "\\["
            else:
                stuff = pattern[i:j].replace("\\", "\\\\")
                i = j + 1
                if stuff[0] == "!":
                    stuff = "^" + stuff[1:]
                elif stuff[0] == "^":
                    stuff = "\\" + stuff
                out += f"[{stuff}]"
        else:
            out += re.escape(c)
    return re.compile(out + "$")
