"""Workspace.resolve and .relative: their quick walk gives exactly what resolving the whole path
gives, and resolve refuses the same escapes (`..`, absolute paths, symlinks out)."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.errors import WorkspaceError
from runner.workspace import open_workspace

CASES = ["a.txt", "dir/b.txt", "dir/", "./dir//b.txt", "", ".", "missing/x/y", "a.txt/below",
         "link-in/b.txt", "dir/link-file", "dir/../a.txt", "link-out", "link-out/x", "../x",
         "/etc/passwd", "dir/dangling"]


@pytest.mark.parametrize("relative", CASES)
def test_resolve_is_what_resolving_the_whole_path_gives(tmp_path: Path, relative: str) -> None:
    root = tmp_path / "ws"
    (root / "dir").mkdir(parents=True)
    (root / "taskform.yaml").write_text("")
    (root / "a.txt").write_text("a")
    (root / "dir" / "b.txt").write_text("b")
    (root / "link-in").symlink_to(root / "dir")
    (root / "dir" / "link-file").symlink_to(root / "a.txt")
    (root / "link-out").symlink_to(tmp_path)
    (root / "dir" / "dangling").symlink_to(root / "nowhere")
    ws = open_workspace(root)
    expected = (root / relative).resolve()
    if not expected.is_relative_to(root):
        with pytest.raises(WorkspaceError) as err:
            ws.resolve(relative, "file")
        assert str(err.value) == f"file {relative!r} is outside the workspace {root}"
    else:
        assert ws.resolve(relative) == expected
        assert ws.relative(root / relative) == str(expected.relative_to(root))
