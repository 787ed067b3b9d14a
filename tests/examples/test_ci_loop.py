"""The GitOps loop of examples/ci, run as CI runs it: the workflows' run steps are scripts, and
these tests execute exactly those scripts in real git checkouts against a shared PostgreSQL
state, with comments and issues going through PyGithub to the GitHub REST test server.

The pull-request job plans the pull request merged into main and comments (updated, never
duplicated); the merge job applies that saved plan; a second pull request planned before the
merge is refused with the reason; the drift job opens, updates and closes one issue."""

from __future__ import annotations

import os
import re
import subprocess
import uuid
from pathlib import Path

import pytest
from doubles.github_issues import GitHubWithIssues

from tests.conftest import REPO, subprocess_env

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("postgres")]

SCRIPTS = REPO / "examples" / "ci" / "scripts"
SPEC = """\
apiVersion: taskform/v1
kind: Pipeline
metadata: {{name: site}}
spec:
  steps:
    greeting: {{value: {{input: {greeting}}}}}
{more}"""
BUILD = """\
    build:
      shell: {command: "echo built > out.txt", outputs: [out.txt]}
"""


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, "GIT_AUTHOR_NAME": "dev", "GIT_AUTHOR_EMAIL": "d@x",
                               "GIT_COMMITTER_NAME": "dev", "GIT_COMMITTER_EMAIL": "d@x"})
    assert done.returncode == 0, f"git {' '.join(args)}: {done.stderr}"
    return done.stdout


class Repo:
    """A bare origin and a developer's clone; each CI job checks out a fresh clone."""

    def __init__(self, root: Path, state_yaml: str):
        self.root, self.origin, self.dev = root, root / "origin.git", root / "dev"
        git(root, "init", "-q", "--bare", "-b", "main", str(self.origin))
        git(root, "clone", "-q", str(self.origin), str(self.dev))
        self.write("taskform.yaml", state_yaml)
        self.write(".gitignore", ".taskform/\ntaskform-plan/\ntaskform-drift/\n")
        self.write("specs/site.yaml", SPEC.format(greeting="hello", more=""))
        self.commit("the workspace", branch="main")

    def write(self, relative: str, text: str) -> None:
        path = self.dev / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)

    def commit(self, message: str, branch: str) -> None:
        git(self.dev, "add", "-A")
        git(self.dev, "commit", "-q", "-m", message)
        git(self.dev, "push", "-q", "--force", "origin", f"HEAD:{branch}")  # a PR may be rewritten

    def branch(self, name: str, spec: str, file: str = "specs/site.yaml") -> None:
        git(self.dev, "checkout", "-q", "-B", name, "origin/main")
        self.write(file, spec)
        self.commit(f"change {name}", branch=name)
        git(self.dev, "checkout", "-q", "main")

    def checkout(self, name: str, merge: str | None = None) -> Path:
        """A CI job's checkout of main, or of `merge` merged into main (a pull request's
        merge ref)."""
        where = self.root / f"job-{uuid.uuid4().hex[:6]}"
        git(self.root, "clone", "-q", str(self.origin), str(where))
        if merge:
            git(where, "-c", "user.name=ci", "-c", "user.email=ci@x", "merge", "-q",
                "--no-ff", "-m", f"merge {merge}", f"origin/{merge}")
        return where

    def merge(self, name: str) -> None:
        git(self.dev, "fetch", "-q")
        git(self.dev, "checkout", "-q", "main")
        git(self.dev, "reset", "-q", "--hard", "origin/main")
        git(self.dev, "merge", "-q", "--no-ff", "-m", f"Merge {name}", f"origin/{name}")
        git(self.dev, "push", "-q", "origin", "main")


@pytest.fixture
def loop(tmp_path, postgres):  # type: ignore[no-untyped-def]
    state = (f"state: {{backend: postgresql, url: '{postgres.url()}', "
             f"workspace: ci-{uuid.uuid4().hex[:8]}}}\n")
    shim = tmp_path / "bin" / "taskform"  # `taskform` as CI installs it: this checkout's
    shim.parent.mkdir()
    shim.write_text(f"#!/bin/sh\nexec {os.sys.executable} -m runner \"$@\"\n")  # type: ignore[attr-defined]
    shim.chmod(0o755)
    with GitHubWithIssues() as github:
        repo_on_github = github.add_repo("acme", "tasks", private=True)
        env = subprocess_env({"PATH": f"{shim.parent}:{os.environ['PATH']}",
                              "GITHUB_TOKEN": github.token, "GITHUB_REPOSITORY": "acme/tasks",
                              "GITHUB_API_URL": github.base_url})
        yield Repo(tmp_path, state), github, repo_on_github, env


def run(script: str, cwd: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    command = ["bash", str(SCRIPTS / script)] if script.endswith(".sh") else \
        ["python3", str(SCRIPTS / script)]
    return subprocess.run([*command, *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=300)


def pull_request_job(repo: Repo, github, on_github, env, branch: str, number: int) -> Path:  # type: ignore[no-untyped-def]
    """The plan workflow's run steps: pr-plan.sh, then comment.py on the pull request."""
    checkout = repo.checkout("pr", merge=branch)
    planned = run("pr-plan.sh", checkout, env, "taskform-plan")
    assert planned.returncode == 0, planned.stderr
    commented = run("comment.py", checkout, env, "pr", str(number), "taskform-plan/plan.md")
    assert commented.returncode == 0, commented.stderr
    return checkout / "taskform-plan"


def test_plan_on_pull_request_apply_on_merge_and_a_stale_plan_refused(loop) -> None:  # type: ignore[no-untyped-def]
    repo, github, on_github, env = loop
    main = repo.checkout("main")
    assert run("merge-apply.sh", main, env, "missing.json").stderr == (
        "merge-apply: no saved plan at missing.json: the pull request's plan job must run (and "
        "upload its plan) before the merge\n")
    # two pull requests, both planned against the same state
    first = github.add_pull_request(on_github, "add a build step")
    repo.branch("build", SPEC.format(greeting="hello", more=BUILD))
    plan_one = pull_request_job(repo, github, on_github, env, "build", first)
    assert (plan_one / "exitcode").read_text() == "2\n"
    markdown = (plan_one / "plan.md").read_text()
    assert markdown.startswith("### taskform plan\n\n**Plan: 2 to create, 0 to update, 0 to "
                               "replace, 0 to destroy, 0 unchanged.**\n")
    assert github.comments_on(on_github, first) == ["<!-- taskform:plan:default -->\n" + markdown]
    # a push to the pull request: the same comment is updated, not a second one posted
    repo.branch("build", SPEC.format(greeting="bonjour", more=BUILD))
    plan_one = pull_request_job(repo, github, on_github, env, "build", first)
    comments = github.comments_on(on_github, first)
    assert len(comments) == 1 and 'input = "bonjour"' in comments[0]
    second = github.add_pull_request(on_github, "another greeting")
    repo.branch("greet", SPEC.format(greeting="hi", more="").replace("site", "other"),
                file="specs/other.yaml")
    plan_two = pull_request_job(repo, github, on_github, env, "greet", second)
    # the first merges: the merge job applies exactly its saved plan
    repo.merge("build")
    merged = repo.checkout("main")
    applied = run("merge-apply.sh", merged, env, str(plan_one / "plan.json"))
    assert applied.returncode == 0, applied.stderr
    assert "Complete: 2 created, 0 updated, 0 replaced, 0 destroyed." in applied.stdout
    assert (merged / "out.txt").read_text() == "built\n"
    # the second merges too, but its plan was made before the first changed the state
    repo.merge("greet")
    refused = run("merge-apply.sh", repo.checkout("main"), env, str(plan_two / "plan.json"))
    # the version counts every state write (records and the intents kept around side effects)
    assert refused.returncode == 1
    assert re.fullmatch(
        r"Error: saved plan is stale: the state changed since the plan was made \(state version "
        r"0 then, [1-9][0-9]* now\); the specs, taskform.yaml or variable values changed since "
        r"the plan was made. Run `taskform plan -out FILE` again.\n", refused.stderr), refused.stderr


def test_a_pull_request_that_does_not_validate_says_why_in_its_comment(loop) -> None:  # type: ignore[no-untyped-def]
    repo, github, on_github, env = loop
    number = github.add_pull_request(on_github, "broken")
    repo.branch("broken", SPEC.format(greeting="hello", more="    bad: {nope: 1}\n"))
    checkout = repo.checkout("pr", merge="broken")
    planned = run("pr-plan.sh", checkout, env, "taskform-plan")
    assert planned.returncode == 1
    assert not (checkout / "taskform-plan" / "plan.json").exists()
    assert run("comment.py", checkout, env, "pr", str(number),
               "taskform-plan/plan.md").returncode == 0
    [comment] = github.comments_on(on_github, number)
    assert comment.startswith("<!-- taskform:plan:default -->\n### taskform plan\n\n"
                              "**`taskform validate` failed**, so there is no plan to apply:\n\n"
                              "```text\nError: 1 error in the specs:\n  specs/site.yaml:7:")


def test_drift_opens_updates_and_closes_one_issue(loop) -> None:  # type: ignore[no-untyped-def]
    repo, github, on_github, env = loop
    repo.write("specs/site.yaml", SPEC.format(greeting="hello", more=BUILD))
    repo.commit("build", branch="main")
    runner = repo.checkout("main")  # a long-lived runner's checkout: out.txt is the real world
    assert subprocess.run(["taskform", "apply", "-auto-approve"], cwd=runner, env=env,
                          capture_output=True).returncode == 0
    calm = run("drift.sh", runner, env)
    assert (calm.returncode, calm.stdout) == (0, "No drift: the real world matches the specs.\n"
                                                 "comment.py: no drift issue is open\n")
    (runner / "out.txt").unlink()
    for verb in ("opened", "updated"):
        drifted = run("drift.sh", runner, env)
        assert (drifted.returncode, drifted.stdout) == (0, (
            "Drift: the real world no longer matches the specs.\n"
            f"comment.py: {verb} https://github.test/acme/tasks/issues/1\n"))
    [issue] = github.issues["acme/tasks"].values()
    assert (issue.title, issue.state) == ("taskform: drift detected", "open")
    assert issue.body.startswith("<!-- taskform:drift:default -->\n### taskform drift\n\n**Plan: "
                                 "0 to create, 1 to update")
    assert "output file out.txt is missing" in issue.body
    assert subprocess.run(["taskform", "apply", "-auto-approve"], cwd=runner, env=env,
                          capture_output=True).returncode == 0
    healed = run("drift.sh", runner, env)
    assert healed.stdout.endswith("comment.py: closed https://github.test/acme/tasks/issues/1\n")
    assert issue.state == "closed"
    assert github.comments_on(on_github, 1) == [
        "The real world matches the specs again: closing."]
    (runner / "specs" / "site.yaml").write_text("kind: Nonsense\n")
    broken = run("drift.sh", runner, env)
    assert broken.returncode == 1 and broken.stderr.startswith("Error: ")
