"""Helpers for the grading tests: real git repositories in temp dirs, real patches made by git,
and the grading script run by real bash: everything phase 2 does inside a container, minus the
container."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from runner.rubric.evidence.commands import invocations
from runner.rubric.evidence.harness import Canary, harness_tar
from runner.rubric.evidence.model import Expectation
from runner.rubric.outcome import GradingOutcome, HostView, interpret
from runner.rubric.script import GradingJob, grading_script
from runner.rubric.status import NO_MARKERS, Markers

GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@localhost", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@localhost", "GIT_CONFIG_GLOBAL": "/dev/null",
           "GIT_CONFIG_NOSYSTEM": "1"}


def git(repo: Path, *args: str) -> str:
    env = {**os.environ, **GIT_ENV}
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True,
                          text=True, env=env).stdout


def write_files(root: Path, files: dict[str, str | None]) -> None:
    for rel, text in files.items():
        path = root / rel
        if text is None:
            path.unlink()
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def make_repo(root: Path, files: dict[str, str]) -> Path:
    """A git repository with `files` in one commit (a pristine project, as the image has)."""
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "-q")
    write_files(root, dict(files))
    git(root, "add", "-A")
    git(root, "commit", "-qm", "pristine")
    return root


def diff_of(repo: Path, changes: dict[str, str | None]) -> str:
    """The patch git makes for `changes` against HEAD; the repository is left pristine."""
    git(repo, "reset", "-q", "--hard")
    git(repo, "clean", "-qffdx")
    write_files(repo, changes)
    git(repo, "add", "-A")
    patch = git(repo, "diff", "--cached", "--binary")
    git(repo, "reset", "-q", "--hard")
    git(repo, "clean", "-qffdx")
    return patch


KIT_CANARY = Canary("5eed" * 8)


def with_harness(job: GradingJob, canary: Canary = KIT_CANARY) -> GradingJob:
    """The job with the evidence harness and a canary, as rubric_shell gives it one."""
    return replace(job, harness=harness_tar(canary), canary=canary.name)


def run_grading(job: GradingJob, markers: Markers = NO_MARKERS,
                canary: Canary = KIT_CANARY, prelude: str = "") -> GradingOutcome:
    """Run the grading script with bash, the way rubric_shell runs it in a container (stdin,
    one process), with the host's budget (before the command, and its deadline) as the
    subprocess timeout. The criterion's expectation comes from its command, as in a step.
    `prelude`: bash run first, in the same shell."""
    started = time.monotonic()
    proc = subprocess.Popen(["bash", "-s"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        stdout, _ = proc.communicate((prelude + "\n" + grading_script(job)).encode(),
                                     timeout=job.watchdog_seconds + job.run_seconds)
        stopped = None
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)
        stdout, _ = proc.communicate()
        stopped = "killed"
    return interpret(stdout, job, markers=markers,
                     host=HostView(stopped, time.monotonic() - started),
                     expectation=Expectation(tuple(invocations(job.command))), canary=canary)


def free_uid() -> int:
    """A uid with no passwd entry and no process: sweeping its processes touches nothing else."""
    import pwd

    used = set()
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            line = next(x for x in status.read_text().splitlines() if x.startswith("Uid:"))
            used.update(int(v) for v in line.split()[1:])
        except (OSError, StopIteration):
            continue
    for uid in range(64100, 65000):
        try:
            pwd.getpwuid(uid)
        except KeyError:
            if uid not in used:
                return uid
    raise RuntimeError("no free uid in 64100-64999")


def live_processes(uid: int) -> list[str]:
    """Processes of `uid` that are not zombies (a zombie is dead, only not yet reaped)."""
    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines()
                          if ":" in line)
        except OSError:
            continue
        if int(fields["Uid"].split()[0]) == uid and not fields["State"].strip().startswith("Z"):
            found.append(f"{status.parent.name} {fields['Name'].strip()}")
    return found



def still_there(find: Callable[[], list[str]], grace: float = 5.0) -> list[str]:
    """What `find` still reports after processes killed a moment ago had time to exit. A
    leaked process (the tests start 300 s sleepers) is still there long after the grace."""
    deadline = time.monotonic() + grace
    while (found := find()) and time.monotonic() < deadline:
        time.sleep(0.05)
    return found
