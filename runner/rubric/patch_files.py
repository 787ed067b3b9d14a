"""What a patch does to each file, as `git apply` will do it: created, deleted, renamed or
copied, the mode it sets (a symbolic link is mode 120000), and whether its content is binary.

Paths and modes come from the patch's git headers (`diff --git`, `new file mode`, `rename
to`, ...), read the way git reads them; hunk bodies are never read as headers. Whether a
file's content is binary, and the list of paths, come from git itself (`git apply --numstat`),
so a patch whose headers say one thing while git would do another is caught by comparing the
two (`disagreement`)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace

from runner.rubric.patches import strip_prefix, take_quoted, unquote

SYMLINK_MODE = "120000"
GITLINK_MODE = "160000"  # a submodule
_HUNK = re.compile(r"^@@ -\d+(?:,(\d+))? \+\d+(?:,(\d+))? @@")
_HEADERS = {
    "new file mode ": "created", "deleted file mode ": "deleted", "new mode ": "mode",
    "rename from ": "old", "rename to ": "new", "copy from ": "copy_from", "copy to ": "new",
}


@dataclass(frozen=True)
class FileChange:
    """One file of a patch. `old` None: created; `new` None: deleted."""

    old: str | None
    new: str | None
    mode: str | None = None  # the mode the patch gives the file, when it sets one
    binary: bool = False
    copy: bool = False

    @property
    def paths(self) -> set[str]:
        """Every path it touches (a rename touches both names, a copy only its target)."""
        found = {self.new} if self.copy else {self.old, self.new}
        return {p for p in found if p}

    @property
    def added(self) -> str | None:
        """The path it brings into existence: a new file, or a rename's or copy's target."""
        return self.new if self.new and (self.old is None or self.old != self.new) else None

    @property
    def final(self) -> str:
        """The path git names it by (`git apply --numstat`): the new one, else the old."""
        return self.new or self.old or ""


def file_changes(patch: str) -> list[FileChange]:
    """The files a patch changes, in patch order."""
    return [change for change in _blocks(patch) if change.final]


def with_binary(changes: list[FileChange], binary_paths: Iterable[str]) -> list[FileChange]:
    """`changes` with git's own verdict on which files carry binary content."""
    binary = set(binary_paths)
    return [replace(c, binary=c.final in binary) for c in changes]


def disagreement(changes: list[FileChange], git_paths: list[str]) -> str | None:
    """How git's reading of the paths differs from the headers', or None when they agree."""
    ours = sorted(c.final for c in changes)
    theirs = sorted(git_paths)
    if ours == theirs:
        return None
    return (f"git reads the paths {', '.join(theirs) or '(none)'}, its headers say "
            f"{', '.join(ours) or '(none)'}")


def _blocks(patch: str) -> Iterator[FileChange]:
    block: dict[str, str | None] | None = None
    old_left = new_left = 0  # lines left in the current hunk: its body is content
    for line in patch.splitlines():
        if (old_left > 0 or new_left > 0) and line[:1] in (" ", "-", "+", "\\", ""):
            old_left -= line[:1] in (" ", "-", "")
            new_left -= line[:1] in (" ", "+", "")
            continue
        old_left = new_left = 0
        if (hunk := _HUNK.match(line)) is not None:
            old_left, new_left = int(hunk.group(1) or 1), int(hunk.group(2) or 1)
        elif line.startswith("diff --git "):
            if block is not None:
                yield _change(block)
            block = _git_header(line[len("diff --git "):])
        elif line.startswith("--- "):
            if block is None or "minus" in block:  # a plain unified diff's next file
                if block is not None:
                    yield _change(block)
                block = {}
            block["minus"] = _side(line[4:])
        elif line.startswith("+++ ") and block is not None and "plus" not in block:
            block["plus"] = _side(line[4:])
        elif block is not None:
            _extended(block, line)
    if block is not None:
        yield _change(block)


def _extended(block: dict[str, str | None], line: str) -> None:
    for prefix, key in _HEADERS.items():
        if line.startswith(prefix):
            value = line[len(prefix):]
            if key in ("created", "deleted"):
                block[key] = value.strip()
            elif key == "mode":
                block["mode"] = value.strip()
            else:
                block[key] = unquote(value)
            return


def _side(text: str) -> str | None:
    """A `---`/`+++` path without its a/ or b/ (None for /dev/null)."""
    path = unquote(text.split("\t")[0].rstrip())
    found = strip_prefix(path)
    return next(iter(found)) if found else None


def _git_header(rest: str) -> dict[str, str | None]:
    """`a/x b/y` from `diff --git`: the default old and new names, which the extended headers
    and `---`/`+++` lines refine."""
    if rest.startswith('"'):
        first, remainder = take_quoted(rest)
        old, new = strip_prefix(first), strip_prefix(unquote(remainder.strip()))
        return {"git_old": next(iter(old), None), "git_new": next(iter(new), None)}
    for i, char in enumerate(rest):  # `a/x y b/x y`: split where both halves name one file
        if char == " " and rest[i + 1:].startswith("b/") and rest[2:i] == rest[i + 3:]:
            return {"git_old": rest[2:i], "git_new": rest[2:i]}
    parts = rest.split(" ")
    if len(parts) == 2:
        return {"git_old": next(iter(strip_prefix(parts[0])), None),
                "git_new": next(iter(strip_prefix(parts[1])), None)}
    return {}


def _change(block: dict[str, str | None]) -> FileChange:
    old = block.get("old") or block.get("copy_from") or block.get("minus", block.get("git_old"))
    new = block.get("new") or block.get("plus", block.get("git_new"))
    if "created" in block:
        old = None
        new = new or block.get("git_new")
    if "deleted" in block:
        new = None
        old = old or block.get("git_old")
    mode = block.get("created") or block.get("mode")
    return FileChange(old=old, new=new, mode=mode, copy="copy_from" in block)
