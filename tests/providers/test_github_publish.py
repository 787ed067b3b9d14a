"""Publishing to GitHub through real PyGithub against a GitHub REST server on 127.0.0.1:
repositories created with the right visibility (answers always private), files pushed as one
commit, a second apply changes nothing, an existing repository is adopted, destroy archives
only what taskform created."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from doubles.content import COMPETENCIES, needs_git
from doubles.github_server import GitHubServer

pytestmark = needs_git

TOKEN = "ghp-secret-token-0123456789"
TASK = """
apiVersion: taskform/v1
kind: Task
metadata: {name: items-api}
spec:
  competencies: [python-fastapi]
  background: shop
  publish: {to: github, owner: acme, visibility: public}
"""


@pytest.fixture
def github() -> Iterator[GitHubServer]:
    with GitHubServer(token=TOKEN) as server:
        yield server


def configure(ws, github: GitHubServer, task: str = TASK) -> dict[str, str]:  # type: ignore[no-untyped-def]
    ws.write("taskform.yaml", f"""
        github:
          base_url: {github.base_url}
          token_variable: gh_token
          seconds_between_requests: 0
          seconds_between_writes: 0
        variables:
          gh_token: {{env: TEST_GH_TOKEN, secret: true}}
        """)
    ws.spec(COMPETENCIES, "competencies.yaml")
    ws.spec(task, "task.yaml")
    return {"TEST_GH_TOKEN": TOKEN}


def test_creates_both_repositories_with_the_right_visibility(ws, github) -> None:  # type: ignore[no-untyped-def]
    env = configure(ws, github)
    result = ws.cli("apply", "-auto-approve", env=env)
    assert result.exit_code == 0, result.output
    starter, answers = github.repos["acme/items-api"], github.repos["acme/items-api-answers"]
    assert (starter.private, answers.private) == (False, True)
    assert starter.topics == ["taskform"] == answers.topics
    assert starter.description == "Assessment task (managed by taskform: task.items-api)"
    files = starter.files()
    assert "app/main.py" in files and "README.md" in files and "SOLUTION.md" not in files
    assert "# Items Api" in files["README.md"]  # ours replaced the auto-init README
    assert {"SOLUTION.md", "grading/rubrics.json", "grading/golden.patch"} <= set(answers.files())
    assert starter.trees[starter.commits[starter.refs["main"]]["tree"]]["run.sh"][0] == "100755"
    out = ws.state().records()["task.items-api"].outputs["published"]
    assert out["starter"] == {"name": "items-api", "owner": "acme",
                              "url": "https://github.test/acme/items-api",
                              "commit": starter.refs["main"], "visibility": "public",
                              "owned": True, "changed": True}
    assert out["answers"]["visibility"] == "private"
    assert TOKEN.encode() not in ws.stored_bytes()


def test_a_second_apply_changes_nothing(ws, github) -> None:  # type: ignore[no-untyped-def]
    env = configure(ws, github)
    assert ws.cli("apply", "-auto-approve", env=env).exit_code == 0
    writes = len(github.writes())
    plan = ws.cli("plan", "-detailed-exitcode", env=env)
    assert plan.exit_code == 0, plan.stdout
    ws.cli("apply", "-auto-approve", env=env)
    replaced = ws.cli("apply", "-auto-approve", "-replace", "task.items-api", env=env)
    assert replaced.exit_code == 0
    assert len(github.writes()) == writes  # same tree: no blob, tree, commit or ref written
    out = ws.state().records()["task.items-api"].outputs["published"]
    assert out["starter"]["changed"] is False and out["starter"]["owned"] is True


def test_an_existing_repository_is_adopted(ws, github) -> None:  # type: ignore[no-untyped-def]
    env = configure(ws, github)
    existing = github.add_repo("acme", "items-api-answers", private=False,
                               files={"NOTES.md": "made by hand\n"}, description="hand-made")
    first = existing.refs["main"]
    result = ws.cli("apply", "-auto-approve", "-v", env=env)
    assert result.exit_code == 0, result.stdout
    assert "adopting existing repository acme/items-api-answers" in result.stdout
    assert "making acme/items-api-answers private (it was public)" in result.stdout
    assert existing.private is True
    head = existing.commits[existing.refs["main"]]
    assert head["parents"] == [first]  # our commit goes on top of its history
    assert "NOTES.md" not in existing.files() and "SOLUTION.md" in existing.files()
    out = ws.state().records()["task.items-api"].outputs["published"]
    assert out["answers"]["owned"] is False
    # destroy with archive: only the repository taskform created is archived
    configure(ws, github, TASK.replace("visibility: public}",
                                       "visibility: public, on_destroy: archive}"))
    assert ws.cli("apply", "-auto-approve", env=env).exit_code == 0
    result = ws.cli("destroy", "-auto-approve", "-v", env=env)
    assert result.exit_code == 0, result.stdout
    assert github.repos["acme/items-api"].archived is True
    assert existing.archived is False
    assert "left items-api-answers alone: taskform did not create it" in result.stdout


def test_drift_is_seen_and_repaired(ws, github) -> None:  # type: ignore[no-untyped-def]
    env = configure(ws, github)
    assert ws.cli("apply", "-auto-approve", env=env).exit_code == 0
    starter = github.repos["acme/items-api"]
    ours = starter.refs["main"]
    github._commit(starter, {"README.md": "defaced\n"}, [ours], "someone else")
    plan = ws.cli("plan", env=env)
    assert f"# starter repository items-api moved from {ours[:12]} to " \
        f"{starter.refs['main'][:12]}" in plan.stdout
    github.repos["acme/items-api-answers"].private = False
    plan = ws.cli("plan", env=env)
    assert "# answers repository items-api-answers is public" in plan.stdout
    assert ws.cli("apply", "-auto-approve", env=env).exit_code == 0
    assert "# Items Api" in starter.files()["README.md"]
    assert github.repos["acme/items-api-answers"].private is True


def test_a_user_owner_and_a_missing_owner(ws, github) -> None:  # type: ignore[no-untyped-def]
    env = configure(ws, github, TASK.replace("owner: acme", "owner: tester"))
    assert ws.cli("apply", "-auto-approve", env=env).exit_code == 0
    assert github.repos["tester/items-api"].private is False
    configure(ws, github, TASK.replace("owner: acme", "owner: nobody"))
    result = ws.cli("apply", "-auto-approve", env=env)
    assert result.exit_code == 1
    assert ("GitHub owner 'nobody' is neither an organisation nor the token's user ('tester')"
            in result.stdout)


def test_the_token_must_come_from_a_declared_secret(ws, github) -> None:  # type: ignore[no-untyped-def]
    configure(ws, github)
    ws.write("taskform.yaml", f"github: {{base_url: {github.base_url}}}\n")
    result = ws.cli("apply", "-auto-approve")
    assert result.exit_code == 1
    assert ("github.token_variable must name a declared secret variable holding the GitHub "
            "token (see variables: in taskform.yaml)") in result.stdout


def test_a_repository_of_another_task_is_refused(ws, github) -> None:  # type: ignore[no-untyped-def]
    env = configure(ws, github)
    github.add_repo("acme", "items-api", private=False,
                    description="Assessment task (managed by taskform: task.other)")
    result = ws.cli("apply", "-auto-approve", env=env)
    assert result.exit_code == 1
    assert ("task.items-api: repository acme/items-api belongs to task.other (its taskform "
            "marker); give this task another publish.repo") in result.stdout
