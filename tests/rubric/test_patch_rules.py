"""What a solution may change, checked on patches made by real git (binary content, symbolic
links, bytecode, modules that shadow what runs the tests) and on hand-made patches whose
headers say one thing while git reads another. Each refusal names the path and the rule."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from grading_kit import GIT_ENV, git, make_repo

from runner.rubric.patch_files import file_changes
from runner.rubric.patch_rules import (
    PatchRules,
    default_solution_paths,
    glob_match,
    import_name,
    refusal,
)

PROJECT = {"durations/__init__.py": "", "durations/core.py": "def parse():\n    return 0\n",
           "tests/__init__.py": "", "tests/held_out/placeholder.txt": "x\n", "README.md": "r\n"}
HELD_OUT = {"tests/held_out/test_core.py": "import unittest\n"}


def patch(tmp_path: Path, changes: dict[str, bytes | str | None],
          links: dict[str, str] | None = None) -> str:
    """The patch real git makes (binary included) for `changes` and new symbolic links."""
    repo = make_repo(tmp_path / f"repo{len(list(tmp_path.iterdir()))}", PROJECT)
    for rel, content in changes.items():
        path = repo / rel
        if content is None:
            path.unlink()
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    for rel, target in (links or {}).items():
        os.symlink(target, repo / rel)
    git(repo, "add", "-A")
    return git(repo, "diff", "--cached", "--binary")


@pytest.fixture
def tests_patch(tmp_path: Path) -> str:
    return patch(tmp_path, dict(HELD_OUT))


REFUSED = [
    ("bytecode in __pycache__", {"durations/__pycache__/core.cpython-311.pyc": "x"}, None,
     "solution adds compiled bytecode (Python would load it instead of the source): "
     "durations/__pycache__/core.cpython-311.pyc"),
    ("a sourceless .pyc next to the tests", {"tests/held_out/test_core.pyc": "x"}, None,
     "solution adds compiled bytecode (Python would load it instead of the source): "
     "tests/held_out/test_core.pyc"),
    ("a path configuration file", {"durations/evil.pth": "import os\n"}, None,
     "solution modifies test-harness files: durations/evil.pth (protected: conftest.py, "
     "sitecustomize.py, usercustomize.py, *.pth, pytest.ini)"),
    ("a symbolic link", {}, {"durations/link.py": "/etc/passwd"},
     "solution adds a symbolic link: durations/link.py"),
    ("binary content in a .py file", {"durations/core.py": b"\x00\x01ELF"}, None,
     "solution adds binary content: durations/core.py"),
    ("an extension module shadowing a held-out test",
     {"tests/held_out/test_core.cpython-311-x86_64-linux-gnu.so": "text, not ELF\n"}, None,
     "solution adds a module that shadows a held-out test module: "
     "tests/held_out/test_core.cpython-311-x86_64-linux-gnu.so (tests.held_out.test_core)"),
    ("a module shadowing a held-out package", {"tests/held_out.py": "raise SystemExit(0)\n"},
     None, "solution adds a module that shadows a held-out test module: tests/held_out.py "
           "(tests.held_out)"),
    ("an empty __init__.py turning the held-out folder into a package",
     {"tests/held_out/__init__.py": ""}, None,
     "solution modifies the package of the held-out tests: tests/held_out/__init__.py"),
    ("an empty package named like the test framework", {"pytest/__init__.py": ""}, None,
     "solution adds a module named like the test framework, which the work dir would shadow: "
     "pytest/__init__.py"),
    ("a module named like the standard library", {"json.py": "x = 1\n"}, None,
     "solution adds a module named like one of Python's standard library, which the work dir "
     "would shadow: json.py"),
    ("a path outside solution_paths", {"README.md": "rewritten\n"}, None,
     "solution touches paths outside solution_paths (durations/**): README.md"),
]


@pytest.mark.parametrize(("changes", "links", "message"), [c[1:] for c in REFUSED],
                         ids=[c[0] for c in REFUSED])
def test_a_solution_is_refused_naming_the_path_and_the_rule(tmp_path, tests_patch, changes,
                                                            links, message):
    solution = patch(tmp_path, changes, links)
    rules = PatchRules(solution_paths=("durations/**", "tests/**", "json.py", "pytest/**"))
    if "outside" in message:
        rules = PatchRules(solution_paths=("durations/**",))
    assert refusal(solution, tests_patch, rules) == message


def test_an_honest_solution_within_its_paths_is_graded(tmp_path, tests_patch):
    solution = patch(tmp_path, {"durations/core.py": "def parse():\n    return 1\n",
                                "durations/units.py": "UNITS = {}\n"})
    assert refusal(solution, tests_patch, PatchRules(solution_paths=("durations/**",))) is None


def test_a_patch_whose_headers_disagree_with_git_is_refused_not_misread(tests_patch):
    # `diff --git` says durations/core.py; git writes what `+++` says: a top-level unittest.py
    sneaky = ("diff --git a/durations/core.py b/durations/core.py\n--- a/durations/core.py\n"
              "+++ b/unittest.py\n@@ -1,2 +1,2 @@\n-def parse():\n+def parse():  # x\n"
              "     return 0\n")
    assert file_changes(sneaky)[0].final == "unittest.py"
    assert refusal(sneaky, tests_patch) == (
        "solution adds a module named like the test framework, which the work dir would "
        "shadow: unittest.py")


def test_a_patch_git_cannot_read_is_an_error_with_gits_words(tests_patch):
    assert refusal("diff --git a/x b/x\n@@ broken\n", tests_patch) == (
        "patch does not apply: error: No valid patches in input (allow with \"--allow-empty\")")


def test_the_default_solution_paths_come_from_the_golden_patch(tmp_path):
    golden = patch(tmp_path, {"durations/core.py": "def parse():\n    return 1\n",
                              "setup.py": "x\n"})
    assert default_solution_paths(golden) == ("durations/**", "setup.py")
    assert default_solution_paths(None) == ()


GLOBS = [("durations/**", "durations/core.py", True), ("durations/**", "durations/a/b.py", True),
         ("durations/**", "durationsx/core.py", False), ("*.py", "setup.py", True),
         ("*.py", "pkg/setup.py", False), ("**/*.py", "pkg/a/setup.py", True),
         ("**/*.py", "setup.py", True), ("src/*/x.py", "src/a/x.py", True),
         ("src/*/x.py", "src/a/b/x.py", False)]


@pytest.mark.parametrize(("pattern", "path", "matches"), GLOBS)
def test_globs(pattern, path, matches):
    assert glob_match(pattern, path) is matches


NAMES = [("pkg/mod.py", "pkg.mod"), ("pkg/__init__.py", "pkg"), ("unittest.py", "unittest"),
         ("a/b.cpython-311-x86_64-linux-gnu.so", "a.b"), ("README.md", None),
         ("my-dir/x.py", None)]


@pytest.mark.parametrize(("path", "name"), NAMES)
def test_import_names(path, name):
    assert import_name(path) == name


def test_a_rename_onto_a_held_out_name_is_refused(tmp_path, tests_patch):
    renamed = patch(tmp_path, {"durations/core.py": None,
                               "tests/held_out/test_core.py": "def parse():\n    return 0\n"})
    assert refusal(renamed, tests_patch) == (
        "solution modifies held-out tests: tests/held_out/test_core.py")


def test_git_is_what_reads_binary_content(tmp_path):
    repo = make_repo(tmp_path / "r", {"a.txt": "a\n"})
    (repo / "a.txt").write_bytes(b"a\x00b")
    git(repo, "add", "-A")
    text_headers = subprocess.run(["git", "-C", str(repo), "diff", "--cached"],
                                  capture_output=True, text=True, env={**os.environ, **GIT_ENV},
                                  check=True).stdout
    assert "Binary files a/a.txt and b/a.txt differ" in text_headers  # no ---/+++ at all
    assert refusal(git(repo, "diff", "--cached", "--binary"), "") == \
        "solution adds binary content: a.txt"
