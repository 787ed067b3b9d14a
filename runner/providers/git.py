"""Git through the real `git` command: bare repositories under the workspace (labelled in
their config as taskform's), publishing a file tree as one commit only when it differs from the
branch head, and patches between two file trees."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from runner.errors import ProviderError, StepFailed

GIT_TIMEOUT_SECONDS = 300
IDENTITY = ["-c", "user.name=taskform", "-c", "user.email=taskform@localhost",
            "-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false"]
LABEL_SECTION = "taskform"


@dataclass(frozen=True)
class Pushed:
    commit: str
    changed: bool


def git(args: list[str], cwd: Path | None = None, check: bool = True) -> str:
    """Run git; a failure is a StepFailed carrying its output."""
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}
    try:
        done = subprocess.run(["git", *IDENTITY, *args], cwd=cwd, env=env, capture_output=True,
                              text=True, timeout=GIT_TIMEOUT_SECONDS)
    except FileNotFoundError:
        raise ProviderError("git is not installed (it is needed to publish tasks and to make "
                            "their patches)") from None
    except subprocess.TimeoutExpired:
        raise StepFailed(f"git {args[0]} did not finish in {GIT_TIMEOUT_SECONDS}s") from None
    if check and done.returncode != 0:
        raise StepFailed(f"git {args[0]} failed with exit code {done.returncode}",
                         output=(done.stdout + done.stderr).strip(),
                         command="git " + " ".join(args), exit_code=done.returncode)
    return done.stdout


def write_files(root: Path, files: Mapping[str, str]) -> None:
    """Write a file tree; shell scripts are executable."""
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
        if rel.endswith(".sh"):
            path.chmod(0o755)


def _snapshot(repo: Path, files: Mapping[str, str]) -> str:
    """Replace the work tree with `files`, stage everything, return the tree id."""
    for child in repo.iterdir():
        if child.name != ".git":
            shutil.rmtree(child) if child.is_dir() else child.unlink()
    write_files(repo, files)
    git(["add", "-A"], repo)
    return git(["write-tree"], repo).strip()


def diff(before: Mapping[str, str], after: Mapping[str, str]) -> str:
    """A patch that `git apply` turns `before` into `after` with (empty when equal)."""
    with tempfile.TemporaryDirectory(prefix="taskform-diff-") as tmp:
        repo = Path(tmp)
        git(["init", "-q"], repo)
        _snapshot(repo, before)
        git(["commit", "-q", "--allow-empty", "-m", "before"], repo)
        _snapshot(repo, after)
        return git(["diff", "--cached", "--no-color", "--no-ext-diff", "--full-index",
                    "--binary"], repo)


def ensure_bare(path: Path, labels: Mapping[str, str]) -> bool:
    """Create a labelled bare repository unless one exists; True when created."""
    if (path / "HEAD").is_file():
        return False
    path.mkdir(parents=True, exist_ok=True)
    git(["init", "-q", "--bare", str(path)])
    for key, value in labels.items():
        git(["config", "--file", str(path / "config"), f"{LABEL_SECTION}.{_label_key(key)}", value])
    return True


def labels_of(path: Path) -> dict[str, str]:
    """The taskform labels in a bare repository's config (empty: not taskform's)."""
    if not (path / "config").is_file():
        return {}
    out = git(["config", "--file", str(path / "config"), "--get-regexp", f"^{LABEL_SECTION}\\."],
              check=False)
    labels = {}
    for line in out.splitlines():
        key, _, value = line.partition(" ")
        labels[key.removeprefix(f"{LABEL_SECTION}.")] = value
    return labels


def _label_key(key: str) -> str:
    # git config keys allow letters, digits and '-' only: taskform.address -> address
    return key.removeprefix("taskform.").replace("_", "-").replace(".", "-")


def head(remote: str, branch: str) -> str | None:
    """The commit at `branch` in `remote`, or None when the branch (or repo) is not there."""
    out = git(["ls-remote", remote, f"refs/heads/{branch}"], check=False)
    line = out.strip().splitlines()[0] if out.strip() else ""
    return line.split()[0] if line else None


def push(remote: str, files: Mapping[str, str], message: str, branch: str = "main") -> Pushed:
    """Make `branch` hold exactly `files`: one new commit on top of its head, or nothing when
    the tree is already the same."""
    with tempfile.TemporaryDirectory(prefix="taskform-push-") as tmp:
        repo = Path(tmp)
        git(["init", "-q"], repo)
        tree = _snapshot(repo, files)
        current = head(remote, branch)
        parents: list[str] = []
        if current:
            git(["fetch", "-q", "--no-tags", remote, f"refs/heads/{branch}"], repo)
            if git(["rev-parse", "FETCH_HEAD^{tree}"], repo).strip() == tree:
                return Pushed(current, changed=False)
            parents = ["-p", "FETCH_HEAD"]
        commit = git(["commit-tree", tree, *parents, "-m", message], repo).strip()
        git(["push", "-q", remote, f"{commit}:refs/heads/{branch}"], repo)
        return Pushed(commit, changed=True)


def archive(path: Path) -> Path:
    """Move a bare repository aside into `.archived/` next to it; returns where it went."""
    target = path.parent / ".archived" / f"{path.name.removesuffix('.git')}-{int(time.time())}.git"
    target.parent.mkdir(parents=True, exist_ok=True)
    path.rename(target)
    return target


def remove(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=False)


@dataclass(frozen=True)
class NumstatEntry:
    path: str
    binary: bool


def apply_numstat(patch: str) -> list[NumstatEntry]:
    """How `git apply` reads a patch: each file it would write (by its final path) and whether
    the content is binary. ValueError carries git's message for a patch it cannot read."""
    if not patch.strip():
        return []  # nothing to read (git calls an empty patch an error)
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C",
           "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull}
    with tempfile.TemporaryDirectory(prefix="taskform-numstat-") as tmp:  # outside any repo
        try:
            done = subprocess.run(["git", "apply", "--numstat", "-z", "-"], cwd=tmp, env=env,
                                  input=patch.encode(), capture_output=True,
                                  timeout=GIT_TIMEOUT_SECONDS)
        except FileNotFoundError:
            raise ProviderError("git is not installed (it is needed to check solution "
                                "patches)") from None
    if done.returncode != 0:
        raise ValueError(done.stderr.decode("utf-8", "replace").strip() or "git apply failed")
    entries = []
    for item in done.stdout.decode("utf-8", "surrogateescape").split("\0"):
        added, _, rest = item.partition("\t")
        removed, _, path = rest.partition("\t")
        if path:
            entries.append(NumstatEntry(path, added == "-" and removed == "-"))
    return entries
