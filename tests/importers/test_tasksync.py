"""`taskform import task-sync`: task-sync's step rows become Pipeline YAML that taskform loads;
names from titles, numeric ids mapped, bookkeeping dropped, problems named by row id."""

from __future__ import annotations

import json

import yaml

ROWS = [
    {"id": 101, "task_id": 7, "title": "Check files",
     "settings": {"file_exists": {"files": {"app/Dockerfile": "2025-01-01T00:00:00Z"}}}},
    {"id": 102, "task_id": 7, "title": "Build App Image",
     "settings": {"docker_build": {"context": "./app", "image_tag": "my-app:1.0",
                                   "files": ["app/main.go", "app/Dockerfile"],
                                   "params": ["--no-cache"],
                                   "triggers": {"files": {"app/main.go": "abc"}},
                                   "depends_on": [{"id": 101}]}}},
    {"id": 103, "task_id": 7, "title": "Run App Container",
     "settings": {"docker_run": {"parameters": ["-d -p 8080:80", "%%IMAGETAG%%"],
                                 "keep_forever": True, "depends_on": [{"id": 102}]}}},
    {"id": 104, "task_id": 7, "title": "Create Worker Pool",
     "settings": {"docker_pool": {"image_tag": "my-worker:1.0", "pool_size": 4,
                                  "keep_forever": True, "parameters": ["--memory=256m"],
                                  "containers": [{"container_id": "abc"}],
                                  "depends_on": [{"id": 102}]}}},
    {"id": 105, "task_id": 7, "title": "Run Tests in Container",
     "settings": json.dumps({"docker_shell": {
         "command": [{"run_application_tests": "/app/tests/run.sh"}],
         "depends_on": [{"id": 103}]}})},
    {"id": 106, "task_id": 7, "title": "Build App Image",
     "settings": {"docker_pull": {"image_tag": "nginx:latest",
                                  "prevent_run_before": "2024-01-01T00:00:00Z"}}},
    {"id": 201, "task_id": 8, "title": "Pull", "settings": {"docker_pull": {"image_tag": "x:1"}}},
]


def write_rows(ws, rows) -> str:
    path = ws.root / "steps.json"
    path.write_text(json.dumps(rows))
    return str(path)


def test_rows_become_pipelines_that_validate(ws):
    result = ws.cli("import", "task-sync", write_rows(ws, ROWS))
    assert result.exit_code == 0, result.output
    assert "wrote specs/tasksync/task-7.yaml (6 steps)" in result.output
    assert "wrote specs/tasksync/task-8.yaml (1 step)" in result.output
    assert "note: row 102: dropped task-sync bookkeeping triggers" in result.output
    assert "note: row 104: dropped task-sync bookkeeping containers" in result.output
    doc = yaml.safe_load((ws.root / "specs/tasksync/task-7.yaml").read_text())
    steps = doc["spec"]["steps"]
    assert doc["metadata"] == {"name": "task-7", "labels": {"tasksync-task": "7"}}
    assert list(steps) == ["check_files", "build_app_image", "run_app_container",
                           "create_worker_pool", "run_tests_in_container", "build_app_image_2"]
    assert steps["check_files"] == {"file_exists": ["app/Dockerfile"],
                                    "description": "Check files"}
    assert steps["build_app_image"] == {
        "docker_build": {"context": "./app", "image_tag": "my-app:1.0",
                         "files": ["app/main.go", "app/Dockerfile"], "params": ["--no-cache"]},
        "depends_on": ["check_files"], "description": "Build App Image"}
    assert steps["run_app_container"]["docker_run"] == {
        "keep_forever": True, "parameters": ["-p", "8080:80"],
        "image_id": "{{ steps.build_app_image.image_id }}"}
    assert steps["create_worker_pool"]["docker_pool"] == {
        "image_tag": "my-worker:1.0", "pool_size": 4, "keep_forever": True,
        "parameters": ["--memory=256m"]}
    assert steps["run_tests_in_container"] == {
        "docker_shell": {"command": [{"run_application_tests": "/app/tests/run.sh"}],
                         "container": "{{ steps.run_app_container.container_id }}"},
        "depends_on": ["run_app_container"], "description": "Run Tests in Container"}
    validated = ws.cli("validate")
    assert validated.exit_code == 0, validated.output
    assert validated.output == "Valid: 2 documents, 7 resources in 2 files.\n"


def test_unknown_types_and_dangling_ids_are_named_by_row_and_nothing_is_written(ws):
    rows = ROWS + [
        {"id": 301, "task_id": 7, "title": "Rubrics", "settings": {"dynamic_lab": {"x": 1}}},
        {"id": 302, "task_id": 7, "title": "Late",
         "settings": {"docker_pull": {"image_tag": "y", "depends_on": [{"id": 999}]}}},
        {"id": 303, "task_id": 7, "title": "Two", "settings": {"docker_pull": {}, "file_exists": "a"}},
        {"id": "x", "task_id": 7, "title": "Bad id", "settings": {}},
        {"id": 304, "task_id": 7, "title": "Bad flag",
         "settings": {"docker_run": {"image_tag": "a", "parameters": ["--gpus all"]}}},
    ]
    result = ws.cli("import", "task-sync", write_rows(ws, rows))
    assert result.exit_code == 1
    lines = result.output.splitlines()
    problems = [line for line in lines if line.startswith(("Error:", "  row"))]
    assert problems[0] == f"Error: 5 problems in {ws.root / 'steps.json'}; nothing was written:"
    assert "  row x: id must be a whole number, got 'x'" in problems
    assert any(p.startswith("  row 301: unknown step type 'dynamic_lab' (title 'Rubrics'); "
                            "taskform has: ") for p in problems)
    assert ("  row 302: depends on step id 999, which is not a step of the same task in this "
            "file") in problems
    assert "  row 303: expected one step type key in settings, found docker_pull, file_exists" \
        in problems
    assert any(p.startswith("  row 304: docker_run: parameters: unsupported docker run flag "
                            "'--gpus'") for p in problems)
    assert not (ws.root / "specs").exists()


def test_existing_files_are_not_overwritten_without_force(ws):
    path = write_rows(ws, ROWS[-1:])
    assert ws.cli("import", "task-sync", path, "-o", "specs").exit_code == 0
    result = ws.cli("import", "task-sync", path, "-o", "specs")
    assert result.exit_code == 1
    assert result.output == (f"Error: {ws.root / 'specs/task-8.yaml'} already exists; pass "
                             "--force to overwrite\n")
    assert ws.cli("import", "task-sync", path, "-o", "specs", "--force").exit_code == 0


def test_unreadable_input_is_a_clear_error(ws):
    (ws.root / "bad.json").write_text("{not json")
    result = ws.cli("import", "task-sync", str(ws.root / "bad.json"))
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: {ws.root / 'bad.json'}: Expecting property name")
    (ws.root / "obj.json").write_text('{"rows": []}')
    result = ws.cli("import", "task-sync", str(ws.root / "obj.json"))
    assert result.output == (f"Error: {ws.root / 'obj.json'}: expected a JSON array of step rows "
                             "(or {\"steps\": [...]}) with id, task_id, title and settings\n")


RUBRIC_ROWS = [
    {"id": 401, "task_id": 9, "title": "Build", "settings": {"docker_build": {
        "image_tag": "task9:latest"}}},
    {"id": 402, "task_id": 9, "title": "Volumes", "settings": {"docker_volume_pool": {
        "solutions": ["original", "golden", "solution1", "solution2"],
        "depends_on": [{"id": 401}]}}},
    {"id": 403, "task_id": 9, "title": "Import Rubrics", "settings": {"rubrics_import": {
        "json_file": "rubrics.json", "md_file": "TASK_DATA.md",
        "triggers": {"files": {"rubrics.json": "aa"}}}}},
    {"id": 404, "task_id": 9, "title": "Rubrics", "settings": {"rubric_set": {
        "file": "TASK_DATA.md", "held_out_test": "held_out_tests.patch",
        "files": {"TASK_DATA.md": "", "solution2.patch": "cd", "solution1.patch": "ab",
                  "held_out_tests.patch": "ef", "golden.patch": "01"},
        "assign_containers": {"solution1.patch": "task_9_volume_solution1"},
        "depends_on": [{"id": 403}, {"id": 402}]}}},
    {"id": 405, "task_id": 9, "title": "Rubric 1: 0b6f3c1e", "settings": {"rubric_shell": {
        "command": "pytest -q", "criterion_id": "0b6f3c1e", "generated_by": "404",
        "depends_on": [{"id": 404}]}}},
    {"id": 406, "task_id": 9, "title": "Report written", "settings": {"file_exists": {
        "files": {"report.html": ""}, "depends_on": [{"id": 405}]}}},
    {"id": 501, "task_id": 10, "title": "Pool A", "settings": {"docker_pool": {
        "image_tag": "a:1", "pool_size": 2}}},
    {"id": 502, "task_id": 10, "title": "Dynamic", "settings": {"dynamic_rubric": {
        "rubrics": ["TASK_DATA.md"], "hash": "ff", "files": {"solution1.patch": "aa"},
        "assign_containers": {"solution1.patch": "c1"},
        "environment": {"docker": {"image_tag": "a:1"}}}}},
]


def test_rubric_rows_become_rubric_steps_grading_in_the_tasks_pool(ws):
    result = ws.cli("import", "task-sync", write_rows(ws, RUBRIC_ROWS))
    assert result.exit_code == 0, result.output
    assert "note: row 405: rubric_shell (generated by row 404) not imported: taskform's " \
           "rubric_set expands into one grading per criterion × solution itself" in result.output
    assert "note: row 404: dropped assign_containers (gradings share the pool's containers)" \
        in result.output
    assert "note: row 502: grades in pool_a, the task's only container pool" in result.output
    assert "note: row 502: dropped environment (the pool decides the image)" in result.output
    steps = yaml.safe_load((ws.root / "specs/tasksync/task-9.yaml").read_text())["spec"]["steps"]
    assert list(steps) == ["build", "volumes", "import_rubrics", "rubrics", "report_written"]
    assert steps["import_rubrics"]["rubrics_import"] == {"json_file": "rubrics.json",
                                                         "md_file": "TASK_DATA.md"}
    assert steps["rubrics"] == {
        "rubric_set": {"file": "TASK_DATA.md", "held_out_test": "held_out_tests.patch",
                       "files": ["TASK_DATA.md", "golden.patch", "held_out_tests.patch",
                                 "solution1.patch", "solution2.patch"],
                       "pool": "volumes"},
        "depends_on": ["import_rubrics", "volumes"], "description": "Rubrics"}
    assert steps["report_written"]["depends_on"] == ["rubrics"]
    dynamic = yaml.safe_load((ws.root / "specs/tasksync/task-10.yaml").read_text())
    assert dynamic["spec"]["steps"]["dynamic"]["dynamic_rubric"] == {
        "rubrics": ["TASK_DATA.md"], "files": ["solution1.patch"],
        "assign_containers": {"solution1.patch": "c1"}, "pool": "pool_a"}
    validated = ws.cli("validate")
    assert validated.output == "Valid: 2 documents, 7 resources in 2 files.\n"


def test_a_rubric_row_with_no_pool_to_grade_in_is_named(ws):
    rows = [{"id": 601, "task_id": 11, "title": "A", "settings": {"docker_pool": {
                "image_tag": "a:1", "pool_size": 1}}},
            {"id": 602, "task_id": 11, "title": "B", "settings": {"docker_pool": {
                "image_tag": "a:1", "pool_size": 1}}},
            {"id": 603, "task_id": 11, "title": "Grade", "settings": {"rubric_set": {
                "file": "TASK_DATA.md"}}},
            {"id": 701, "task_id": 12, "title": "Grade", "settings": {"dynamic_rubric": {
                "rubrics": ["a.md", "b.md"], "pool": "x"}}}]
    result = ws.cli("import", "task-sync", write_rows(ws, rows))
    assert result.exit_code == 1
    problems = [line for line in result.output.splitlines() if line.startswith("  row")]
    assert problems == [
        "  row 603: rubric_set needs a pool to grade in, and the task has its 2 pools (a, b) it "
        "depends on or could take; add `pool: <docker_pool step>` to its settings",
        "  row 701: dynamic_rubric: rubrics: expected exactly one rubric file, got 2 (task-sync "
        "silently used the first)",
    ]
