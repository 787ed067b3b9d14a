"""The digest of taskform's own source that names every cache entry and expansion memo: equal
to a full read whatever the memo beside the bytecode says, and cheap when nothing changed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from runner.spec.cachestore import code_digest, source_digest


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "pkg"
    for relative, text in {"__init__.py": "", "a.py": "A = 1\n", "kinds/b.py": "B = 2\n",
                           "kinds/__pycache__/b.py": "stale\n", ".hidden/c.py": "C\n",
                           "notes.txt": "not code\n"}.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text)
    (root / "__pycache__").mkdir()
    return root


def memo_of(root: Path) -> Path:
    return root / "__pycache__" / "taskform-code-digest"


def test_the_memo_gives_what_a_full_read_gives(tree):
    full = source_digest(tree, None)
    assert source_digest(tree, memo_of(tree)) == full  # computed, then kept
    assert memo_of(tree).stat().st_mode & 0o777 == 0o600
    assert source_digest(tree, memo_of(tree)) == full  # from the memo


def test_only_package_sources_count(tree):
    before = source_digest(tree, None)
    for ignored in ("kinds/__pycache__/b.py", ".hidden/c.py", "notes.txt"):
        (tree / ignored).write_text("changed\n")
    assert source_digest(tree, None) == before
    (tree / "kinds" / "b.py").write_text("B = 3\n")
    assert source_digest(tree, None) != before


def test_an_edit_of_the_same_size_with_its_time_set_back_is_seen(tree):
    first = source_digest(tree, memo_of(tree))
    path = tree / "a.py"
    info = path.stat()
    path.write_text("A = 2\n")
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))  # what `tar -x` or `cp -p` do
    assert path.stat().st_size == info.st_size and path.stat().st_mtime_ns == info.st_mtime_ns
    assert source_digest(tree, memo_of(tree)) == source_digest(tree, None) != first


def test_a_memo_that_is_not_private_or_not_a_file_is_ignored(tree):
    real = source_digest(tree, memo_of(tree))
    signature = memo_of(tree).read_bytes()[:64]
    forged = signature + b"0" * 64
    memo_of(tree).write_bytes(forged)
    memo_of(tree).chmod(0o644)  # someone else's, or made readable
    assert source_digest(tree, memo_of(tree)) == real
    elsewhere = tree.parent / "planted"
    elsewhere.write_bytes(forged)
    elsewhere.chmod(0o600)
    memo_of(tree).unlink()
    memo_of(tree).symlink_to(elsewhere)
    assert source_digest(tree, memo_of(tree)) == real


def test_an_empty_tree_has_no_digest(tmp_path):
    assert source_digest(tmp_path, None) == ""


def test_taskforms_own_digest_is_a_full_read_of_its_sources():
    import runner

    code_digest.cache_clear()
    assert code_digest() == source_digest(Path(runner.__file__).parent, None)
