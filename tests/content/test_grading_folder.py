"""Every generated task folder carries its grading image's recipe: `grading/Dockerfile` (from
templates/grading/Dockerfile, the workspace's own first), a `.dockerignore` keeping the image to
the recipe and the project, and `grading/project/`, the starter the patches apply to. A new
recipe rewrites the folders without generating again; a folder missing it is drift."""

from __future__ import annotations

from doubles.content import COMPETENCIES, SCENARIO, files_of, needs_git

from runner.content import taskdir
from runner.content.profile import Profile
from runner.workspace import Workspace, WorkspaceConfig

pytestmark = needs_git

TASK = f"""
apiVersion: taskform/v1
kind: Task
metadata: {{name: items-api}}
spec:
  competencies: [python-fastapi]
  background: shop
  scenario: {{text: "{SCENARIO}"}}
"""


def apply(ws) -> str:  # type: ignore[no-untyped-def]
    result = ws.cli("apply", "-auto-approve")
    assert result.exit_code == 0, result.output
    return result.stdout


def test_the_folder_holds_the_recipe_and_the_starter_as_project(ws) -> None:  # type: ignore[no-untyped-def]
    ws.spec(COMPETENCIES, "competencies.yaml")
    ws.spec(TASK, "task.yaml")
    apply(ws)
    out = ws.state().records()["task.items-api"].outputs
    base = ".taskform/tasks/items-api"
    assert {k: out["grading"][k] for k in ("dir", "dockerfile", "project")} == {
        "dir": f"{base}/grading", "dockerfile": f"{base}/grading/Dockerfile",
        "project": f"{base}/grading/project"}
    grading = ws.root / out["grading"]["dir"]
    recipe = (grading / "Dockerfile").read_text()
    # the base recipe with the task's toolchain (python: pytest, FastAPI, PostgreSQL) added first
    assert recipe.startswith("# The grading image of a generated task")
    assert ("FROM taskform/base:bookworm\n\n# toolchain python\nRUN apt-get update -q \\\n"
            " && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "
            "python3-pytest python3-fastapi python3-httpx python3-yaml python3-redis redis-server "
            "postgresql-15 >/dev/null \\\n && rm -rf /var/lib/apt/lists/*\n") in recipe
    assert recipe.index("# toolchain python") < recipe.index("COPY project/ /app/")
    assert (grading / ".dockerignore").read_text() == "*\n!Dockerfile\n!project/\n"
    starter = ws.root / base / "starter"
    assert files_of(grading / "project") == files_of(starter) == set(out["files"]["starter"])
    for rel in files_of(starter):
        assert (grading / "project" / rel).read_bytes() == (starter / rel).read_bytes()
    assert (grading / "project" / "run.sh").stat().st_mode & 0o111
    assert sorted(p.name for p in grading.iterdir()) == [
        ".dockerignore", "Dockerfile", "golden.patch", "held_out_tests.patch", "project",
        "rubrics.json"]


def test_a_new_recipe_rewrites_the_folder_without_generating_again(ws) -> None:  # type: ignore[no-untyped-def]
    ws.spec(COMPETENCIES, "competencies.yaml")
    ws.spec(TASK, "task.yaml")
    apply(ws)
    commit = ws.state().records()["task.items-api"].outputs["published"]["starter"]["commit"]
    # a workspace's own templates/grading/Dockerfile is used as it is, for every toolchain
    recipe = taskdir.recipe_text(Workspace(root=ws.root / "none", config=WorkspaceConfig()),
                                 Profile()).replace("WORKDIR /app", "RUN echo extra\nWORKDIR /app")
    ws.write("templates/grading/Dockerfile", recipe)
    plan = ws.cli("plan").stdout
    assert "  ~ task.items-api  (task, update)\n      # template:grading/Dockerfile changed\n" \
        in plan
    applied = ws.cli("apply", "-auto-approve", "-v")
    assert "task.items-api: | reusing the task generated earlier from the same inputs" \
        in applied.stdout
    assert (ws.root / ".taskform/tasks/items-api/grading/Dockerfile").read_text() == recipe
    out = ws.state().records()["task.items-api"].outputs
    assert out["published"]["starter"]["commit"] == commit  # the starter did not change
    assert ws.cli("plan").stdout.startswith("No changes.")


def test_a_folder_without_the_recipe_is_drift_and_apply_restores_it(ws) -> None:  # type: ignore[no-untyped-def]
    ws.spec(COMPETENCIES, "competencies.yaml")
    ws.spec(TASK, "task.yaml")
    apply(ws)
    folder = ws.root / ".taskform/tasks/items-api/grading"
    (folder / "Dockerfile").unlink()
    for path in sorted((folder / "project").rglob("*"), reverse=True):
        path.rmdir() if path.is_dir() else path.unlink()
    (folder / "project").rmdir()
    plan = ws.cli("plan").stdout
    assert "      # generated files in .taskform/tasks/items-api are missing (grading/Dockerfile, " \
           "grading/project/)\n" in plan
    apply(ws)
    assert (folder / "Dockerfile").is_file() and (folder / "project" / "app" / "main.py").is_file()
    assert ws.cli("plan").stdout.startswith("No changes.")
