"""Task end to end with the offline `template` provider: generation, gates, local bare
repositories (real git), idempotent re-apply, regeneration only when inputs change, and a
failed gate that blocks publishing and makes apply exit 1."""

from __future__ import annotations

import json
import subprocess

from doubles.content import COMPETENCIES, SCENARIO, clone, files_of, needs_git

pytestmark = needs_git

TASK = f"""
apiVersion: taskform/v1
kind: ScenarioSet
metadata: {{name: fastapi}}
spec:
  competencies: [python-fastapi]
  scenarios: ["{SCENARIO}"]
---
apiVersion: taskform/v1
kind: Task
metadata: {{name: items-api}}
spec:
  competencies: [python-fastapi]
  background: shop
  scenario: {{set: fastapi, index: 0}}
"""


def setup(ws) -> None:  # type: ignore[no-untyped-def]
    ws.spec(COMPETENCIES, "competencies.yaml")
    ws.spec(TASK, "task.yaml")


def test_generates_gates_and_publishes_to_local_git(ws, tmp_path) -> None:  # type: ignore[no-untyped-def]
    setup(ws)
    result = ws.cli("apply", "-auto-approve")
    assert result.exit_code == 0, result.output
    record = ws.state().records()["task.items-api"]
    out = record.outputs
    assert out["status"] == "ready"
    assert out["gates"] == {g: "passed" for g in ("schema", "readme", "references", "leaks",
                                                    "grading", "review")}
    assert out["scenario"].startswith("**Current Implementation:** The catalogue API")
    assert out["scenario_key"] == "Python - FastAPI (BASIC)"
    assert (out["stack"], out["scaffold"], out["provider"]) == ("python-fastapi",
                                                                "python-fastapi", "template")
    assert out["competencies"] == [{"name": "Python - FastAPI", "proficiency": "BASIC",
                                    "competency_id": "c-fastapi"}]
    assert out["readme"]["objectives"][0].startswith("`POST /items` validates its JSON body")
    starter, answers = out["published"]["starter"], out["published"]["answers"]
    assert (starter["path"], answers["path"]) == (".taskform/repos/items-api.git",
                                                  ".taskform/repos/items-api-answers.git")
    assert starter["owned"] and answers["owned"] and starter["changed"]
    checkout = clone(ws.root / starter["path"], tmp_path / "starter")
    assert files_of(checkout) == {".gitignore", "README.md", "app/__init__.py", "app/framework.py",
                                  "app/main.py", "app/server.py", "app/store.py", "run.sh",
                                  "tests/__init__.py", "tests/test_smoke.py"}
    assert (checkout / "run.sh").stat().st_mode & 0o111
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=checkout, capture_output=True,
                          text=True).stdout.strip()
    assert head == starter["commit"]
    solved = clone(ws.root / answers["path"], tmp_path / "answers")
    assert {"SOLUTION.md", "grading/rubrics.json", "grading/held_out_tests.patch",
            "grading/golden.patch"} <= files_of(solved)
    rubrics = json.loads((solved / "grading/rubrics.json").read_text())
    assert [r["forms"]["default"]["criterion_test_command"] for r in rubrics] == [
        "python3 -m unittest tests.held_out.test_validation",
        "python3 -m unittest tests.held_out.test_pagination",
        "python3 -m unittest tests.held_out.test_errors"]
    assert set(rubrics[0]) == {"rubricItemId", "score", "criterion", "required", "forms"}
    grading = ws.root / out["grading"]["rubrics"]
    assert json.loads(grading.read_text()) == rubrics


def test_second_apply_changes_nothing_and_replace_regenerates(ws) -> None:  # type: ignore[no-untyped-def]
    setup(ws)
    assert ws.cli("apply", "-auto-approve").exit_code == 0
    commit = ws.state().records()["task.items-api"].outputs["published"]["starter"]["commit"]
    again = ws.cli("plan", "-detailed-exitcode")
    assert again.exit_code == 0, again.stdout
    assert "No changes." in again.stdout
    replaced = ws.cli("apply", "-auto-approve", "-replace", "task.items-api")
    assert replaced.exit_code == 0, replaced.output
    assert "task.items-api: replaced" in replaced.stdout
    out = ws.state().records()["task.items-api"].outputs
    # the same inputs give the same offline task: the repository is adopted, nothing pushed
    assert out["published"]["starter"]["commit"] == commit
    assert out["published"]["starter"]["changed"] is False


def test_regenerates_only_when_its_own_inputs_change(ws) -> None:  # type: ignore[no-untyped-def]
    setup(ws)
    assert ws.cli("apply", "-auto-approve").exit_code == 0
    # another scenario added to the set: the task reads scenario 0 only
    ws.spec(TASK.replace(f'scenarios: ["{SCENARIO}"]',
                         f'scenarios: ["{SCENARIO}", "{SCENARIO.replace("catalogue", "order")}"]'),
            "task.yaml")
    result = ws.cli("apply", "-auto-approve")
    assert result.exit_code == 0, result.stdout
    assert "task.items-api: unchanged: its inputs were the same" in result.stdout
    # the background the task reads changes: it is regenerated and pushed
    ws.spec(COMPETENCIES.replace("A start-up building", "A retailer running"), "competencies.yaml")
    plan = ws.cli("plan")
    assert "~ task.items-api  (task, update)" in plan.stdout
    assert "background.shop will change" in plan.stdout
    result = ws.cli("apply", "-auto-approve")
    assert "task.items-api: updated" in result.stdout
    out = ws.state().records()["task.items-api"].outputs
    assert out["published"]["starter"]["changed"] is True


def test_a_changed_prompt_or_scaffold_file_is_a_reason(ws) -> None:  # type: ignore[no-untyped-def]
    import shutil

    from runner.content.templates import SHIPPED

    setup(ws)
    assert ws.cli("apply", "-auto-approve").exit_code == 0
    shutil.copytree(SHIPPED / "tasks" / "python-fastapi", ws.root / "templates" / "tasks" /
                    "python-fastapi")
    readme = ws.root / "templates/tasks/python-fastapi/starter/README.md.j2"
    readme.write_text(readme.read_text().replace("Helpful Tips", "Helpful Hints"))
    plan = ws.cli("plan")
    assert "template:tasks/python-fastapi/scaffold.yaml" not in plan.stdout
    assert "# template:tasks/python-fastapi/starter/README.md.j2 changed" in plan.stdout


def test_a_failed_gate_blocks_publishing_and_exits_1(ws) -> None:  # type: ignore[no-untyped-def]
    import shutil

    from runner.content.templates import SHIPPED

    setup(ws)
    shutil.copytree(SHIPPED / "tasks" / "python-fastapi", ws.root / "templates" / "tasks" /
                    "python-fastapi")
    readme = ws.root / "templates/tasks/python-fastapi/starter/README.md.j2"
    readme.write_text(readme.read_text().replace("## Helpful Tips", "## Notes"))
    (ws.root / "templates/tasks/python-fastapi/starter/SOLUTION.md").write_text("the answer\n")
    result = ws.cli("apply", "-auto-approve")
    assert result.exit_code == 1
    assert result.stdout.endswith(
        "Failed: 6 created, 0 updated, 0 replaced, 0 destroyed; 1 failed.\n"
        "  task.items-api: 2 quality gate(s) failed (readme, leaks); the task was not published\n")
    record = ws.state().records()["task.items-api"]
    assert record.status == "failed"
    assert record.error == "2 quality gate(s) failed (readme, leaks); the task was not published"
    assert record.output == (
        "  readme: README.md has no section 'Helpful Tips'\n"
        "  leaks: starter file SOLUTION.md looks like solution or grading material\n"
        'attempts: 1; usage: {"calls": 2, "input_tokens": 0, "output_tokens": 0, "cost_usd": 0.0}\n'
        "the rejected generation is kept in .taskform/tasks/items-api.failed")
    assert not (ws.root / ".taskform/repos").exists()
    assert not (ws.root / ".taskform/tasks/items-api").exists()
    kept = json.loads((ws.root / ".taskform/tasks/items-api.failed/generation.json").read_text())
    assert kept["passed"] is False and kept["gates"]["leaks"]


def test_uncovered_competency_fails_with_the_table_named(ws) -> None:  # type: ignore[no-untyped-def]
    ws.spec(COMPETENCIES, "competencies.yaml")
    ws.spec("""
        apiVersion: taskform/v1
        kind: Task
        metadata: {name: rusty}
        spec: {competencies: [rust], background: shop}
        """, "task.yaml")
    result = ws.cli("apply", "-auto-approve")
    assert result.exit_code == 1
    message = ("competency 'Rust' has no prompt stack: no entry of taskform:templates/prompts/"
               "stacks.yaml covers it")
    # found as soon as the competency is known: while fingerprinting, with the task's place
    assert f"\n  task.rusty: task.rusty (specs/task.yaml:1:1): {message}" in result.stdout
    # once the competency is recorded, plan itself reports it
    plan = ws.cli("plan")
    assert plan.exit_code == 1
    assert f"Error: task.rusty (specs/task.yaml:1:1): {message}" in plan.stderr
    assert "Traceback" not in plan.stderr


def test_destroy_keeps_repositories_by_default_and_deletes_on_request(ws) -> None:  # type: ignore[no-untyped-def]
    setup(ws)
    assert ws.cli("apply", "-auto-approve").exit_code == 0
    assert ws.cli("destroy", "-auto-approve").exit_code == 0
    assert (ws.root / ".taskform/repos/items-api.git/HEAD").is_file()
    assert not (ws.root / ".taskform/tasks/items-api").exists()
    ws.spec(TASK.replace("scenario: {set: fastapi, index: 0}",
                         "scenario: {set: fastapi, index: 0}\n  publish: {on_destroy: delete}"),
            "task.yaml")
    assert ws.cli("apply", "-auto-approve").exit_code == 0  # adopts its own repositories
    result = ws.cli("destroy", "-auto-approve")
    assert result.exit_code == 0, result.stdout
    assert not (ws.root / ".taskform/repos/items-api.git").exists()
    assert not (ws.root / ".taskform/repos/items-api-answers.git").exists()


def test_a_repository_taskform_did_not_create_is_never_deleted(ws) -> None:  # type: ignore[no-untyped-def]
    ws.spec(COMPETENCIES, "competencies.yaml")
    ws.spec(TASK.replace("scenario: {set: fastapi, index: 0}",
                         "scenario: {set: fastapi, index: 0}\n  publish: {on_destroy: delete}"),
            "task.yaml")
    foreign = ws.root / ".taskform/repos/items-api.git"
    subprocess.run(["git", "init", "-q", "--bare", str(foreign)], check=True)
    assert ws.cli("apply", "-auto-approve").exit_code == 0
    out = ws.state().records()["task.items-api"].outputs["published"]
    assert out["starter"]["owned"] is False and out["answers"]["owned"] is True
    result = ws.cli("destroy", "-auto-approve", "-v")
    assert "left items-api alone: taskform did not create it" in result.stdout
    assert (foreign / "HEAD").is_file()
    assert not (ws.root / ".taskform/repos/items-api-answers.git").exists()


def test_drift_of_a_published_repository_is_repaired_without_regenerating(ws, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import shutil

    setup(ws)
    assert ws.cli("apply", "-auto-approve").exit_code == 0
    shutil.rmtree(ws.root / ".taskform/repos/items-api-answers.git")
    plan = ws.cli("plan")
    assert "# answers repository items-api-answers (branch main) is gone" in plan.stdout
    result = ws.cli("apply", "-auto-approve", "-v")
    assert result.exit_code == 0, result.stdout
    assert "reusing the task generated earlier from the same inputs" in result.stdout
    assert (ws.root / ".taskform/repos/items-api-answers.git/HEAD").is_file()


def test_a_scenario_index_out_of_range_is_a_clear_failure(ws) -> None:  # type: ignore[no-untyped-def]
    ws.spec(COMPETENCIES, "competencies.yaml")
    ws.spec(TASK.replace("index: 0", "index: 3"), "task.yaml")
    result = ws.cli("apply", "-auto-approve")
    assert result.exit_code == 1
    assert result.stdout.endswith("  task.items-api: scenario index 3 is out of range: "
                                  "scenario_set.fastapi has 1 scenario(s)\n")


def test_a_repository_of_another_task_is_refused(ws) -> None:  # type: ignore[no-untyped-def]
    setup(ws)
    ws.spec("""
        apiVersion: taskform/v1
        kind: Task
        metadata: {name: copycat}
        spec:
          competencies: [python-fastapi]
          background: shop
          publish: {repo: items-api}
        """, "copycat.yaml")
    assert ws.cli("apply", "-auto-approve", "-target", "task.items-api").exit_code == 0
    result = ws.cli("apply", "-auto-approve")
    assert result.exit_code == 1
    assert result.stdout.endswith(
        "  task.copycat: repository .taskform/repos/items-api.git belongs to task.items-api "
        "(its taskform label); give this task another publish.repo\n")
