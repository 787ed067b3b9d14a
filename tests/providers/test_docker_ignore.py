"""`.dockerignore` rules without the SDK select exactly what the SDK's own archive would send."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.providers.docker.ignore import context_paths

TREE = ["Dockerfile", "app/main.py", "app/README.md", "app/data/big.bin", "app/data/keep.txt",
        "docs/Guide.MD", "docs/a/b/c.txt", ".git/config", "build/x.o", "build/keep/y.o",
        "node_modules/m/index.js", "a[1].txt", "spaced name.txt", "deep/er/still/file.py",
        ".dockerignore", "sub/Dockerfile.dev"]

PATTERNS = [
    [], ["*.md"], ["**/*.md"], ["app/data"], ["app/data", "!app/data/keep.txt"],
    ["build/", "!build/keep"], [".git", "node_modules"], ["docs/**"], ["**/c.txt"],
    ["*", "!app/main.py"], ["./app/../docs"], ["a[1].txt", "spaced name.txt  "],
    ["deep/*/still"], ["?ocs"], ["[!a]pp"], ["**"], ["Dockerfile"], ["*.MD"],
    ["app/**/*.bin", "!**/keep.txt"], ["/docs/", "#comment-like"], ["a[.txt"],
]


@pytest.mark.parametrize("patterns", PATTERNS, ids=[" ".join(p) or "none" for p in PATTERNS])
def test_the_same_files_as_the_sdk(tmp_path: Path, patterns: list[str]) -> None:
    sdk = pytest.importorskip("docker.utils.build")
    for rel in TREE:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(rel)
    (tmp_path / "link-to-app").symlink_to(tmp_path / "app")
    ours = context_paths(str(tmp_path), list(patterns), "Dockerfile")
    theirs = sdk.exclude_paths(str(tmp_path), list(patterns), dockerfile="Dockerfile")
    assert ours == theirs
    assert ("app/main.py" in ours) == ("app/main.py" in theirs)  # both ways a real tree


def test_without_patterns_everything_goes(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "f").write_text("")
    assert context_paths(str(tmp_path), [], "Dockerfile") == {"a", "a/f"}
