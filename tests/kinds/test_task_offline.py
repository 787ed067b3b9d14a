"""Task end to end with the offline `template` provider: generation, gates, local bare
repositories (real git), idempotent re-apply, regeneration only when inputs change, and a
failed gate that blocks publishing and makes apply exit 1."""

from __future__ import annotations

import json
import subprocess

from doubles.content import COMPETENCIES, RUST, SCENARIO, clone, files_of, needs_git

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
                                                    "grading", "deploy", "review")}
    assert out["scenario"].startswith("**Current Implementation:** The catalogue API")
    assert out["scenario_key"] == "Python - FastAPI (BASIC)"
    assert (out["stack"], out["scaffold"], out["exercise"], out["provider"]) == (
        "python-fastapi", "python-fastapi", "items-api", "template")
    assert (out["grading"]["mode"], out["grading"]["toolchain"], out["deploy"]) == (
        "tests", "python", "docker")
    assert out["competencies"] == [{"name": "Python - FastAPI", "proficiency": "BASIC",
                                    "competency_id": "c-fastapi"}]
    assert out["readme"]["objectives"][0].startswith("`POST /items` validates its JSON body")
    starter, answers = out["published"]["starter"], out["published"]["answers"]
    assert (starter["path"], answers["path"]) == (".taskform/repos/items-api.git",
                                                  ".taskform/repos/items-api-answers.git")
    assert starter["owned"] and answers["owned"] and starter["changed"]
    checkout = clone(ws.root / starter["path"], tmp_path / "starter")
    assert files_of(checkout) == {".gitignore", "Dockerfile", "README.md", "app/__init__.py",
                                  "app/main.py", "app/store.py", "docker-compose.yml",
                                  "kill.sh", "requirements.txt", "run.sh", "tests/__init__.py",
                                  "tests/test_smoke.py"}
    assert (checkout / "run.sh").stat().st_mode & 0o111 and (checkout / "kill.sh").stat().st_mode & 0o111
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=checkout, capture_output=True,
                          text=True).stdout.strip()
    assert head == starter["commit"]
    solved = clone(ws.root / answers["path"], tmp_path / "answers")
    assert {"SOLUTION.md", "grading/rubrics.json", "grading/held_out_tests.patch",
            "grading/golden.patch"} <= files_of(solved)
    rubrics = json.loads((solved / "grading/rubrics.json").read_text())
    assert [r["forms"]["default"]["criterion_test_command"] for r in rubrics] == [
        "python3 -m pytest -q tests/held_out/test_validation.py::test_valid_item_is_created_with_"
        "default_quantity tests/held_out/test_validation.py::test_each_bad_field_is_named "
        "tests/held_out/test_validation.py::test_rejected_items_are_not_stored",
        "python3 -m pytest -q tests/held_out/test_pagination.py::test_default_page_is_twenty_items "
        "tests/held_out/test_pagination.py::test_limit_and_offset_select_a_page "
        "tests/held_out/test_pagination.py::test_out_of_range_values_are_rejected",
        "python3 -m pytest -q tests/held_out/test_errors.py::test_unknown_item_is_404_with_detail "
        "tests/held_out/test_errors.py::test_non_numeric_id_is_422"]
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
    store = ws.root / "templates/tasks/python-fastapi/exercises/items-api/starter/app/store.py"
    store.write_text(store.read_text().replace("stand-in for", "placeholder for"))
    plan = ws.cli("plan")
    assert "template:tasks/python-fastapi/scaffold.yaml" not in plan.stdout
    assert ("# template:tasks/python-fastapi/exercises/items-api/starter/app/store.py changed"
            in plan.stdout)


def test_a_failed_gate_blocks_publishing_and_exits_1(ws) -> None:  # type: ignore[no-untyped-def]
    import shutil

    from runner.content.templates import SHIPPED

    setup(ws)
    shutil.copytree(SHIPPED / "tasks", ws.root / "templates" / "tasks")
    readme = ws.root / "templates/tasks/_shared/README.md.j2"
    readme.write_text(readme.read_text().replace("## Helpful Tips", "## Notes"))
    exercise = ws.root / "templates/tasks/python-fastapi/exercises/items-api"
    (exercise / "starter/SOLUTION.md").write_text("the answer\n")
    result = ws.cli("apply", "-auto-approve")
    assert result.exit_code == 1
    assert result.stdout.endswith(
        "Failed: 5 created, 0 updated, 0 replaced, 0 destroyed; 1 failed.\n"
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


def test_uncovered_competency_is_reported_by_validate_and_plan(ws) -> None:  # type: ignore[no-untyped-def]
    ws.spec(COMPETENCIES + "---" + RUST, "competencies.yaml")
    ws.spec("""
        apiVersion: taskform/v1
        kind: Task
        metadata: {name: rusty}
        spec: {competencies: [rust], background: shop}
        """, "task.yaml")
    message = ("competency 'Rust' has no prompt stack: no entry of taskform:templates/prompts/"
               "stacks.yaml covers it (stacks: redis, docker, mongodb, sql-postgresql, "
               "python-fastapi, java-kafka, go, nodejs-express, typescript, reactjs, nextjs, "
               "react-native, non-code, mixed-stack); add its name to a stack's `covers`, or add a "
               "stack with its prompts, or name one with `stack:` on the Competency (or set "
               "`content: {unknown_technology: category_fallback}` in taskform.yaml to use its "
               "category's fallback)")
    # before anything is applied: validate and plan name the competency and the table
    validate = ws.run("validate")
    assert validate.returncode == 1
    assert validate.stderr == (f"Error: 2 errors in the specs:\n"
                               f"  specs/competencies.yaml:24:1: competency.rust: {message}\n"
                               f"  specs/task.yaml:1:1: task.rusty: {message}\n")
    plan = ws.run("plan")
    assert plan.returncode == 1
    assert plan.stderr == f"Error: competency.rust (specs/competencies.yaml:24:1): {message}\n"
    result = ws.run("apply", "-auto-approve")
    assert (result.returncode, result.stdout) == (1, "")
    assert "Traceback" not in plan.stderr + result.stderr


def test_a_category_fallback_is_an_opt_in(ws) -> None:  # type: ignore[no-untyped-def]
    ws.write("taskform.yaml", "content: {unknown_technology: category_fallback}\n")
    ws.spec(COMPETENCIES + "---" + RUST, "competencies.yaml")
    ws.spec("""
        apiVersion: taskform/v1
        kind: Task
        metadata: {name: rusty}
        spec: {competencies: [rust], background: shop}
        """, "task.yaml")
    plan = ws.run("plan")
    assert plan.returncode == 1
    assert ("competency 'Rust' has no prompt stack: no entry of taskform:templates/prompts/"
            "stacks.yaml covers it (stacks: redis, ") in plan.stderr
    assert ("give it a `category` to use that category's fallback stack "
            "(content.unknown_technology is category_fallback)") in plan.stderr
    ws.spec(COMPETENCIES + "---" + RUST.replace("BASIC}", "BASIC, category: BACKEND}"),
            "competencies.yaml")
    result = ws.run("apply", "-auto-approve")
    assert result.returncode == 0, result.stdout + result.stderr
    out = ws.state().records()["task.rusty"].outputs
    assert (out["stack"], out["category"], out["scaffold"], out["grading"]["mode"]) == (
        "mixed-stack", "BACKEND", "generic", "review")


def test_a_competency_may_name_its_stack(ws) -> None:  # type: ignore[no-untyped-def]
    ws.spec(COMPETENCIES + "---" + RUST.replace("BASIC}", "BASIC, stack: go}"),
            "competencies.yaml")
    ws.spec("""
        apiVersion: taskform/v1
        kind: Task
        metadata: {name: rusty}
        spec: {competencies: [rust], background: shop}
        """, "task.yaml")
    result = ws.cli("apply", "-auto-approve")
    assert result.exit_code == 0, result.stdout + result.stderr
    out = ws.state().records()["task.rusty"].outputs
    assert (out["stack"], out["scaffold"], out["grading"]["toolchain"]) == ("go", "go", "go")
    ws.spec(COMPETENCIES + "---" + RUST.replace("BASIC}", "BASIC, stack: cobol}"),
            "competencies.yaml")
    validate = ws.cli("validate")
    assert validate.stderr == (
        "Error: 2 errors in the specs:\n"
        "  specs/competencies.yaml:24:1: competency.rust: competency 'Rust' names stack 'cobol', "
        "which is not declared in taskform:templates/prompts/stacks.yaml; stacks: redis, docker, "
        "mongodb, sql-postgresql, python-fastapi, java-kafka, go, nodejs-express, typescript, "
        "reactjs, nextjs, react-native, non-code, mixed-stack\n"
        "  specs/task.yaml:1:1: task.rusty: competency 'Rust' names stack 'cobol', which is not "
        "declared in taskform:templates/prompts/stacks.yaml; stacks: redis, docker, mongodb, "
        "sql-postgresql, python-fastapi, java-kafka, go, nodejs-express, typescript, reactjs, "
        "nextjs, react-native, non-code, mixed-stack\n")


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
