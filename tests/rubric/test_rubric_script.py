"""The grading script, run by real bash against real git repositories: pristine reset, patch,
held-out tests after it, the command under `timeout -k`, and the report it ends with."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from grading_kit import (
    diff_of,
    git,
    live_processes,
    make_repo,
    run_grading,
    still_there,
    with_harness,
)

from runner.rubric.script import GradingJob
from runner.rubric.status import Markers, Status

PROJECT = {
    "calc.py": "def add(a, b):\n    return a - b\n\n\ndef mul(a, b):\n    return a * b\n",
    ".gitignore": "*.log\n__pycache__/\nbuild/\n",
    "README.md": "calc\n",
}
HELD_OUT = {"tests/test_held_out.py": (
    "import unittest\n\nfrom calc import add, mul\n\n\n"
    "class Add(unittest.TestCase):\n    def test_add(self):\n        self.assertEqual(add(2, 3), 5)\n\n\n"
    "class Mul(unittest.TestCase):\n    def test_mul(self):\n        self.assertEqual(mul(2, 3), 6)\n")}
FIXED = {"calc.py": PROJECT["calc.py"].replace("a - b", "a + b")}
ADD = "python3 -m unittest tests.test_held_out.Add"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "app", PROJECT)


def job(repo: Path, **changes: object) -> GradingJob:
    settings: dict[str, object] = dict(command=ADD, tests_patch=diff_of(repo, HELD_OUT),
                                       workdir=str(repo), user=None, timeout=5)
    return with_harness(GradingJob(**{**settings, **changes}))  # type: ignore[arg-type]


@pytest.mark.parametrize(("prelude", "results_dir"), [
    ("", "r.0f1e2d3c4b5a6978"),  # as grading.py names it, unpacked with the payload
    ("unset SRANDOM  # bash before 5.1", ""),  # mktemp names both
])
def test_every_grading_gets_a_work_dir_and_a_results_folder_of_its_own(repo, prelude,
                                                                       results_dir):
    import pwd

    me = pwd.getpwuid(os.getuid()).pw_name  # root in a container: the script's own user
    command = ('w=${HOME%/home}; r=$TASKFORM_RESULTS; '
               'echo "$w $(stat -c %a "$w") $(stat -c %U "$w") $r $(stat -c %a "$r")"; ' + ADD)
    seen = []
    for _ in range(2):
        outcome = run_grading(job(repo, command=command, patch=diff_of(repo, FIXED),
                                  results_dir=results_dir), prelude=prelude)
        assert outcome.status is Status.PASS, outcome.output  # its results were found
        work, mode, owner, results, results_mode = outcome.output.splitlines()[0].split()
        assert (mode, owner, results_mode) == ("711", me, "700")
        assert work.startswith("/tmp/taskform-grade.") and results.startswith(f"{work}/r.")
        assert results_dir in ("", results.rsplit("/", 1)[1])
        seen.append(work)
    assert seen[0] != seen[1]


def test_the_original_fails_and_the_golden_patch_passes(repo):
    original = run_grading(job(repo))
    assert (original.status, original.reason, original.exit_code) == (
        Status.FAIL, "1 of 1 tests failed: tests.test_held_out.Add.test_add (AssertionError: "
                     "-1 != 5)", 1)
    assert "AssertionError: -1 != 5" in original.output
    golden = run_grading(job(repo, patch=diff_of(repo, FIXED)))
    assert (golden.status, golden.reason) == (Status.PASS, "1 test passed")
    assert [(t.id, str(t.outcome)) for t in golden.tests] == [
        ("tests.test_held_out.Add.test_add", "passed")]
    assert golden.output.rstrip().endswith("OK")
    assert golden.tree == git(repo, "rev-parse", "HEAD^{tree}").strip()
    assert set(golden.timings) == {"reset", "setup", "patch", "tests_patch", "run", "total"}


def test_the_reset_removes_changes_untracked_and_ignored_files(repo):
    original = job(repo)
    # leftovers of an earlier grading: the fix itself, a harness file, ignored build output
    (repo / "calc.py").write_text(FIXED["calc.py"])
    (repo / "sitecustomize.py").write_text("raise SystemExit(0)\n")
    (repo / "run.log").write_text("old log\n")
    (repo / "build").mkdir()
    (repo / "build" / "out.bin").write_text("x")
    outcome = run_grading(original)
    assert outcome.status is Status.FAIL  # graded from pristine, not from the leftovers
    left = git(repo, "status", "--porcelain", "--ignored", "--untracked-files=all").splitlines()
    # only the held-out tests the grading applied (and what running them wrote)
    assert [x for x in left if "__pycache__" not in x] == ["?? tests/test_held_out.py"]


def test_a_patch_that_does_not_apply_is_an_error_with_gits_message(repo):
    stale = diff_of(repo, FIXED).replace("return a - b", "return a - b  # other base")
    outcome = run_grading(job(repo, patch=stale))
    assert outcome.status is Status.ERROR
    assert outcome.reason == "patch does not apply: error: patch failed: calc.py:1"
    assert outcome.output == ("patch does not apply: error: patch failed: calc.py:1\n"
                              "error: calc.py: patch does not apply")
    assert outcome.exit_code == 1


def test_held_out_tests_that_no_longer_apply_after_the_solution_are_an_error(repo):
    solution = diff_of(repo, {"tests/test_held_out.py": "# the solution's own file\n"})
    outcome = run_grading(job(repo, patch=solution))
    assert outcome.status is Status.ERROR
    assert outcome.reason == ("held-out tests patch does not apply after the solution: error: "
                              "tests/test_held_out.py: already exists in working directory")


def test_printing_the_pass_marker_and_exiting_non_zero_is_a_fail(repo):
    markers = Markers(pass_marker="#__PASS__#", fail_marker="#__FAIL__#")
    outcome = run_grading(job(repo, command="echo '#__PASS__#'; exit 1"), markers)
    assert (outcome.status, outcome.reason) == (
        Status.FAIL, "printed the pass marker #__PASS__# but exit code 1")
    honest = run_grading(job(repo, command="python3 -c 'import calc; assert calc.add(2, 3) == 5'"
                                           " && echo '#__PASS__#'",
                             patch=diff_of(repo, FIXED)), markers)
    assert (honest.status, honest.reason) == (Status.PASS, "last marker #__PASS__#; exit code 0")
    # a known test runner's results decide, not markers (the weaker mode)
    tested = run_grading(job(repo, command=f"{ADD}; echo '#__PASS__#'"), markers)
    assert (tested.status, tested.evidence) == (Status.FAIL, "results")


def sleeper_processes(token: str) -> list[str]:
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if token.encode() in cmdline.read_bytes() and \
                    "\nState:\tZ" not in (cmdline.parent / "status").read_text():
                found.append(cmdline.parent.name)
        except OSError:
            continue
    return found


@pytest.mark.slow  # waits out a real deadline
def test_a_busy_loop_and_its_background_sleepers_end_as_timeout(repo):
    token = f"taskform-sleeper-{uuid.uuid4().hex[:8]}"
    command = (f"for i in 1 2 3; do (exec -a {token} sleep 300) & done; "
               "while true; do :; done")
    outcome = run_grading(job(repo, command=command, timeout=1, kill_after=1))
    assert (outcome.status, outcome.reason) == (Status.TIMEOUT,
                                                "timed out after 1s (exit code 124)")
    assert still_there(lambda: sleeper_processes(token)) == []


def test_setup_commands_run_before_the_patch_and_a_failing_one_is_an_error(repo):
    setup = ("echo generated > build/marker.txt || (mkdir -p build && echo made > build/m.txt)",)
    outcome = run_grading(job(repo, setup=setup, command="cat build/m.txt"))
    assert (outcome.status, outcome.output) == (Status.PASS, "made\n")
    failing = run_grading(job(repo, setup=("echo preparing", "echo nope >&2; exit 3")))
    assert failing.status is Status.ERROR
    assert failing.reason == "a setup command failed: nope"
    assert failing.output == ("nope\nsetup command 2 failed with exit code 3: echo nope >&2; "
                              "exit 3")


def test_output_over_the_limit_is_cut_with_a_note_and_counted(repo):
    outcome = run_grading(job(repo, command="seq 1 20000", output_limit=400))
    assert outcome.output_truncated and outcome.output_bytes == 108894
    head, note, tail = outcome.output.partition("\n[... taskform: 108494 bytes of output cut "
                                                "(limit 400 bytes) ...]\n")
    assert note and head == "".join(f"{i}\n" for i in range(1, 100))[:100]
    assert tail.endswith("19999\n20000\n") and len(tail.encode()) == 300


def test_the_reset_must_land_on_the_expected_tree(repo):
    outcome = run_grading(job(repo, expected_tree="0" * 40))
    tree = git(repo, "rev-parse", "HEAD^{tree}").strip()
    assert (outcome.status, outcome.reason) == (
        Status.ERROR, f"resetting the repository to pristine failed: the reset landed on tree "
                      f"{tree}, not the pristine tree {'0' * 40}")


def test_a_missing_work_dir_is_an_error(tmp_path):
    outcome = run_grading(GradingJob(command="true", tests_patch="", workdir=str(tmp_path / "no"),
                                     user=None))
    assert (outcome.status, outcome.reason) == (
        Status.ERROR, f"resetting the repository to pristine failed: work dir {tmp_path}/no does "
                      "not exist")


# -- as a non-root user (what the container does with its `grader` user) ----------------------

def user_repo(shared_tmp: Path) -> tuple[Path, Path]:
    """The hardened layout: a worktree, and a root-owned git dir outside it."""
    app = make_repo(shared_tmp / "app", PROJECT)
    gitdir = shared_tmp / "pristine.git"
    git(app, "config", "core.worktree", str(app))  # keeps working after the move below
    (app / ".git").rename(gitdir)
    (app / ".git").write_text(f"gitdir: {gitdir}\n")
    app.chmod(0o755)
    return app, gitdir


def test_the_command_runs_as_the_grading_user_and_may_write_the_tree(shared_tmp, other_uid):
    app, gitdir = user_repo(shared_tmp)
    command = "id -u; id -g; echo $HOME; touch new-file && echo wrote; " + ADD
    outcome = run_grading(with_harness(GradingJob(
        command=command, tests_patch=diff_of(app, HELD_OUT), patch=diff_of(app, FIXED),
        workdir=str(app), git_dir=str(gitdir), user=f"{other_uid}:{other_uid}", timeout=10,
        temp_dirs=(str(shared_tmp),))))
    lines = outcome.output.splitlines()
    assert outcome.status is Status.PASS, outcome.output
    assert lines[:2] == [str(other_uid), str(other_uid)]
    assert lines[2].startswith("/tmp/taskform-grade.") and lines[2].endswith("/home")
    assert lines[3] == "wrote"
    assert os.stat(gitdir / "HEAD").st_uid == 0


@pytest.mark.slow  # waits out a real deadline
def test_processes_and_temp_files_the_user_leaves_behind_are_swept(shared_tmp, other_uid):
    app, gitdir = user_repo(shared_tmp)
    tests, fixed = diff_of(app, HELD_OUT), diff_of(app, FIXED)
    token = f"taskform-daemon-{uuid.uuid4().hex[:8]}"
    drop = shared_tmp / "drop"
    drop.mkdir()
    drop.chmod(0o777)
    user = f"{other_uid}:{other_uid}"
    # a daemon that leaves the process group (setsid), a file left in a temp dir, a fake .git
    command = (f"setsid bash -c 'exec -a {token} sleep 300' < /dev/null > /dev/null 2>&1 & "
               f"echo planted > {drop}/left-behind; rm -f .git; mkdir .git; "
               "while true; do :; done")
    outcome = run_grading(GradingJob(command=command, tests_patch=tests, workdir=str(app),
                                     git_dir=str(gitdir), user=user, timeout=1, kill_after=1,
                                     temp_dirs=(str(drop),)))
    assert outcome.status is Status.TIMEOUT
    assert still_there(lambda: sleeper_processes(token) + live_processes(other_uid)) == []
    # the next grading starts clean: the file is swept, the gitfile restored, the reset works
    again = run_grading(with_harness(GradingJob(
        command=f"ls {drop}; {ADD}", tests_patch=tests, patch=fixed, workdir=str(app),
        git_dir=str(gitdir), user=user, timeout=10, temp_dirs=(str(drop),))))
    assert again.status is Status.PASS, again.output
    assert "left-behind" not in again.output
    assert list(drop.iterdir()) == []
    assert (app / ".git").read_text() == f"gitdir: {gitdir}\n"


def test_a_git_dir_the_grading_user_owns_is_refused(shared_tmp, other_uid):
    app, gitdir = user_repo(shared_tmp)
    os.chown(gitdir / "config", other_uid, other_uid)
    outcome = run_grading(GradingJob(command="true", tests_patch=diff_of(app, HELD_OUT),
                                     workdir=str(app), git_dir=str(gitdir),
                                     user=f"{other_uid}:{other_uid}"))
    assert (outcome.status, outcome.reason) == (
        Status.ERROR, f"a setup command failed: {gitdir}/config belongs to "
                      f"{other_uid}:{other_uid}: the git dir must stay root-owned so tests "
                      "cannot change what the reset restores")


def test_a_user_that_does_not_exist_is_an_error(repo, other_uid):
    outcome = run_grading(job(repo, user="no-such-grader"))
    assert (outcome.status, outcome.reason) == (
        Status.ERROR, "a setup command failed: user no-such-grader does not exist: create it "
                      "in the image (useradd no-such-grader)")
