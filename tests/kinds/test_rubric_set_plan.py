"""Rubric steps at load and plan time (no engine needed: the pool is a stand-in `value` step):
the expansion into criterion × solution children, what each child's fingerprint holds, task-sync's
setting names, and every problem named with its place."""

from __future__ import annotations

import textwrap

import pytest

RUBRIC = """
### #1: compound
**Score**: 3
**Required**: true
**Held-out tests**: `python3 -m unittest tests.test_hidden.Compound`

### crit-02: garbage
**Score**: 2
**Held-out tests**:
```bash
python3 -m unittest \\
  tests.test_hidden.Garbage
```
"""


def task(ws, solutions: tuple[str, ...] = ("solution1", "solution2")) -> None:
    ws.write("task/TASK_DATA.md", RUBRIC)
    for name in (*solutions, "golden", "held_out_tests"):
        ws.write(f"task/{name}.patch", f"patch of {name}\n")


def spec(ws, grade: str, kind: str = "rubric_set") -> None:
    ws.spec(f"""
        apiVersion: taskform/v1
        kind: Pipeline
        metadata: {{name: p}}
        spec:
          steps:
            pool:
              value: {{input: stand-in}}
            grade:
              {kind}:
                pool: pool
{textwrap.indent(textwrap.dedent(grade), " " * 16)}
        """)


def plan_lines(ws, *args: str) -> list[str]:
    result = ws.cli("plan", *args)
    assert result.exit_code in (0, 2), result.output
    return [line for line in result.output.splitlines() if line.startswith(("  + ", "  ~ ",
                                                                             "Plan:"))]


def test_one_child_per_criterion_and_solution_in_column_order(ws):
    task(ws, ("solution10", "solution2", "solution1"))
    spec(ws, "        task_dir: task")
    assert plan_lines(ws) == [
        "  + pipeline.p.grade  (rubric_set, create)",
        *(f'  + pipeline.p.grade["{c}","{s}"]  (rubric_shell, create)'
          for c in ("compound", "garbage")
          for s in ("golden", "original", "solution1", "solution10", "solution2")),
        "  + pipeline.p.pool  (value, create)",
        "Plan: 12 to create, 0 to update, 0 to replace, 0 to destroy, 0 unchanged.",
    ]
    graph = ws.cli("graph").output  # every grading waits for the pool; the step for them all
    assert '"pipeline.p.pool" -> "pipeline.p.grade[\\"compound\\",\\"solution1\\"]";' in graph
    assert '"pipeline.p.grade[\\"garbage\\",\\"golden\\"]" -> "pipeline.p.grade";' in graph


def test_a_child_carries_exactly_what_decides_its_grading(ws):
    task(ws)
    ws.write("taskform.yaml", "grading: {timeout_seconds: 12, fail_marker: '#F#'}\n")
    spec(ws, "        task_dir: task\n        setup: ['make deps']\n"
             "        validate: {repeat: 3}")
    assert ws.cli("apply", "-auto-approve", "-target", "pipeline.p.pool").exit_code == 0
    output = ws.cli("plan").output
    child = output.split('  + pipeline.p.grade["garbage","golden"]  (rubric_shell, create)\n')[1]
    shown = child.split("\n  + ")[0].splitlines()
    assert shown == [
        "      # not yet created",
        '      setup = ["make deps"]',
        '      workdir = "/app"',
        "      git_dir = null",
        '      pristine = "HEAD"',
        "      expected_tree = null",
        '      user = "grader"',
        '      pool = "pipeline.p.pool"',
        '      held_out_tests = "task/held_out_tests.patch"',
        "      timeout_seconds = 12.0",
        "      kill_after = 0.25",
        "      output_limit = 1048576",
        '      markers = {"pass_marker": null, "fail_marker": "#F#", "timeout_marker": null}',
        '      protected = ["conftest.py", "sitecustomize.py", "usercustomize.py", "*.pth", '
        '"pytest.ini"]',
        "      require_lockdown = true",
        '      isolation = "fresh"',
        '      results = "auto"',
        "      solution_paths = []",
        '      criterion = {"id": "garbage", "counter": 2, "score": 2.0, "required": false, '
        '"title": "crit-02", "text": ""}',
        '      command = "python3 -m unittest \\\\\\n  tests.test_hidden.Garbage"',
        '      solution = "golden"',
        '      patch = "task/golden.patch"',
        "      runs = 3",
    ]


def test_a_task_sync_files_list_and_held_out_test_name_the_patches(ws):
    task(ws)
    ws.write("task/pre_patch.patch", "echo prepared\n")
    spec(ws, "        task_dir: task\n        file: TASK_DATA.md\n        files: {TASK_DATA.md: '',"
             " solution2.patch: abc, pre_patch.patch: '', held_out_tests.patch: ''}\n"
             "        held_out_test: held_out_tests.patch")
    lines = plan_lines(ws)
    assert [line for line in lines if '"compound"' in line] == [
        '  + pipeline.p.grade["compound","original"]  (rubric_shell, create)',
        '  + pipeline.p.grade["compound","solution2"]  (rubric_shell, create)',
    ]  # no golden.patch in files: no golden column
    assert 'setup = ["echo prepared\\n"]' in ws.cli("plan").output


def test_dynamic_rubric_takes_task_syncs_rubrics_and_assign_containers(ws):
    task(ws)
    spec(ws, "        task_dir: task\n        rubrics: [TASK_DATA.md]\n"
             "        assign_containers: {solution1.patch: task_1_volume_solution1, golden: x}\n"
             "        environment: {docker: {image_tag: ignored}}", kind="dynamic_rubric")
    assert [line for line in plan_lines(ws) if '"garbage"' in line] == [
        '  + pipeline.p.grade["garbage","golden"]  (rubric_shell, create)',
        '  + pipeline.p.grade["garbage","original"]  (rubric_shell, create)',
        '  + pipeline.p.grade["garbage","solution1"]  (rubric_shell, create)',
    ]


def test_a_new_rubrics_json_wins_and_the_plan_says_why(ws):
    task(ws)
    spec(ws, "        task_dir: task\n        solutions: [solution1.patch]\n        golden: null")
    assert ws.cli("apply", "-auto-approve", "-target", "pipeline.p.pool").exit_code == 0
    ws.write("task/rubrics.json", '[{"rubricItemId": "only", "score": 1, "forms": '
                                  '{"f": {"criterion_test_command": "true"}}}]')
    assert plan_lines(ws) == [
        "  + pipeline.p.grade  (rubric_set, create)",
        '  + pipeline.p.grade["only","original"]  (rubric_shell, create)',
        '  + pipeline.p.grade["only","solution1"]  (rubric_shell, create)',
        "Plan: 3 to create, 0 to update, 0 to replace, 0 to destroy, 1 unchanged.",
    ]



def test_an_explicit_file_wins_over_a_rubrics_json_beside_it(ws):
    task(ws)
    ws.write("task/rubrics.json", '[{"rubricItemId": "only", "score": 1, "forms": '
                                  '{"f": {"criterion_test_command": "true"}}}]')
    spec(ws, "        task_dir: task\n        file: TASK_DATA.md\n"
             "        solutions: [solution1.patch]\n        golden: null")
    assert [line for line in plan_lines(ws) if "original" in line] == [
        '  + pipeline.p.grade["compound","original"]  (rubric_shell, create)',
        '  + pipeline.p.grade["garbage","original"]  (rubric_shell, create)',
    ]
    ws.write("task/rubrics.json", "[]")  # not the rubric: editing it plans nothing
    assert ws.cli("apply", "-auto-approve", "-target", "pipeline.p.pool").exit_code == 0
    assert not [line for line in plan_lines(ws) if "rubrics.json" in line]

PLAN_ERRORS = [
    ("a missing patch", "        task_dir: task\n        solutions: [solution9.patch]",
     "solutions: task/solution9.patch does not exist"),
    ("a reserved name", "        task_dir: task\n        solutions: {golden: solution1.patch}",
     "solutions: solution name 'golden' is reserved: use golden: <patch> for the reference "
     "patch; the original is graded with original: true"),
    ("an escaping path", "        task_dir: ../elsewhere",  # refused at validate, so at plan
     "spec.steps.grade.rubric_set.task_dir: expected a path inside the workspace, got "
     "\"../elsewhere\" (it climbs out of the workspace with ..)"),
    ("a rubric that does not parse", "        task_dir: task\n        file: broken.md",
     "1 error in rubric task/broken.md:\n  task/broken.md:1: section \"### #1: x\": "
     "**Held-out tests** is missing; expected '**Held-out tests**:' followed by a fenced "
     "command block"),
    ("a file it cannot place", "        task_dir: task\n        files: [notes.txt]",
     "cannot tell what 'notes.txt' is: expected solutionN.patch, golden.patch, "
     "held_out_tests.patch, pre_patch.patch or the rubric file"),
]


@pytest.mark.parametrize(("settings", "message"), [c[1:] for c in PLAN_ERRORS],
                         ids=[c[0] for c in PLAN_ERRORS])
def test_plan_errors_name_the_step_and_the_problem(ws, settings, message):
    task(ws)
    ws.write("task/broken.md", "### #1: x\n**Score**: 1\n")
    spec(ws, settings)
    result = ws.cli("plan")
    assert result.exit_code == 1
    assert message in result.output, result.output
    assert result.output.startswith("Error: ")


LOAD_ERRORS = [
    ("a pool that is not a step", "        pool_typo: 1",
     "specs/main.yaml:11:9: spec.steps.grade.rubric_set.pool_typo: unknown key 'pool_typo'; "
     "expected one of: expected_tree, file, files, git_dir, golden, held_out_test, "
     "held_out_tests, isolation, kill_after, original, output_limit, pool, pre_patch, pristine, "
     "protected, report, require_lockdown, results, setup, solution_paths, solutions, task_dir, "
     "timeout_seconds, user, validate, workdir"),
    ("gates without a golden patch", "        golden: null\n        validate: {}",
     "specs/main.yaml:10:9: spec.steps.grade.rubric_set: validate.golden_must_pass needs a golden "
     "patch (golden is null)"),
    ("two names for one setting", "        held_out_test: a.patch\n        held_out_tests: b.patch",
     "specs/main.yaml:10:9: spec.steps.grade.rubric_set: set held_out_tests or task-sync's "
     "held_out_test, not both"),
]


@pytest.mark.parametrize(("settings", "message"), [c[1:] for c in LOAD_ERRORS],
                         ids=[c[0] for c in LOAD_ERRORS])
def test_load_errors_name_file_line_and_field(ws, settings, message):
    spec(ws, settings)
    result = ws.cli("validate")
    assert result.exit_code == 1
    assert message in result.output, result.output


def test_a_pool_step_that_does_not_exist_is_a_load_error(ws):
    ws.spec("""
        apiVersion: taskform/v1
        kind: Pipeline
        metadata: {name: p}
        spec:
          steps:
            grade:
              rubric_set: {pool: workers}
        """)
    result = ws.cli("validate")
    assert result.exit_code == 1
    assert result.output == ("Error: 1 error in the specs:\n  specs/main.yaml:7:19: "
                             "spec.steps.grade.rubric_set: references pipeline.p.workers, which "
                             "is not defined\n")


def test_the_pool_is_an_edge_even_when_another_setting_reads_outputs(ws):
    task(ws)
    spec(ws, "        task_dir: task\n        user: '{{ steps.pool.value }}'")
    graph = ws.cli("graph").output
    assert '"pipeline.p.pool" -> "pipeline.p.grade"' in graph, graph


def test_rubrics_import_records_the_rubric_and_its_hash(ws):
    ws.write("task/TASK_DATA.md", RUBRIC)
    ws.spec("""
        apiVersion: taskform/v1
        kind: Pipeline
        metadata: {name: p}
        spec:
          steps:
            rubric:
              rubrics_import: {task_dir: task, json_file: rubrics.json, md_file: TASK_DATA.md}
            echo:
              value: {input: "{{ steps.rubric.hash }}"}
        """)
    assert ws.cli("apply", "-auto-approve").exit_code == 0
    from runner.rubric.parse import load_rubric

    expected = load_rubric(ws.root / "task/TASK_DATA.md", "task/TASK_DATA.md")
    out = ws.state().records()["pipeline.p.rubric"].outputs
    assert (out["source"], out["hash"], out["count"], out["total"]) == (
        "task/TASK_DATA.md", expected.hash, 2, 5.0)
    assert ws.state().records()["pipeline.p.echo"].outputs["value"] == expected.hash
    assert ws.cli("plan").output == "No changes. 2 resources match the specs.\n"
    ws.write("task/rubrics.json", '[{"rubricItemId": "a", "score": 1, "forms": {}}]')
    result = ws.cli("plan")
    assert result.exit_code == 1
    assert result.output == (
        "Error: pipeline.p.rubric (specs/main.yaml:6:5): 1 error in rubric task/rubrics.json:\n"
        "  task/rubrics.json:1: item 1 (a): forms: expected an object like "
        '{"<form id>": {"criterion_test_command": "<command>"}}, got an empty object\n')


def test_when_on_the_rubric_step_holds_for_every_grading(ws):
    task(ws)
    ws.write("taskform.yaml", "variables: {grade: false}\n")
    spec(ws, "        task_dir: task")
    path = ws.root / "specs/main.yaml"
    path.write_text(path.read_text().rstrip("\n") + "\n      when: var.grade\n")
    result = ws.cli("apply", "-auto-approve")
    assert result.exit_code == 0, result.output
    records = ws.state().records()
    skipped = sorted(a for a, r in records.items() if r.status == "skipped")
    assert skipped == ["pipeline.p.grade", *(f'pipeline.p.grade["{c}","{s}"]'
                                             for c in ("compound", "garbage")
                                             for s in ("golden", "original", "solution1",
                                                       "solution2"))]


def test_grading_in_a_step_that_is_not_a_pool_fails_saying_so(ws):
    task(ws, ("solution1",))
    ws.write("task/TASK_DATA.md", "### #1: only\n**Score**: 1\n**Held-out tests**: `true`\n")
    for name in ("solution1", "golden"):  # patches git can read: nothing refuses them first
        ws.write(f"task/{name}.patch", "diff --git a/x.py b/x.py\nnew file mode 100644\n"
                                       "--- /dev/null\n+++ b/x.py\n@@ -0,0 +1 @@\n+x = 1\n")
    spec(ws, "        task_dir: task\n        original: false")
    result = ws.cli("apply", "-auto-approve")
    assert result.exit_code == 1
    errors = {r.error for a, r in ws.state().records().items() if r.status == "failed"}
    assert errors == {"pipeline.p.pool is not a docker_pool or docker_volume_pool step: it "
                      "records no members to grade in"}


def test_validate_parses_the_rubric_and_names_its_lines_and_the_step(ws):
    task(ws)
    ws.write("task/TASK_DATA.md", RUBRIC.replace("**Score**: 2\n", ""))
    spec(ws, "        task_dir: task")
    result = ws.cli("validate")
    assert result.exit_code == 1
    assert result.output == (
        "Error: 1 error in the specs:\n"
        "  task/TASK_DATA.md:6:1: section \"### crit-02: garbage\": **Score** is missing; "
        "expected a line like '**Score**: 10' (the rubric of pipeline.p.grade, specs/main.yaml:8:5)\n")


def test_validate_leaves_a_rubric_that_is_not_there_yet_to_the_plan(ws):
    spec(ws, "        task_dir: later")
    result = ws.cli("validate")
    assert (result.exit_code, result.output) == (
        0, "Valid: 1 document, 2 resources in 1 file.\n")


def test_a_pool_in_another_pipeline_is_a_dependency_and_one_that_does_not_exist_an_error(ws):
    task(ws)
    ws.spec("""
        apiVersion: taskform/v1
        kind: Pipeline
        metadata: {name: shared}
        spec:
          steps:
            pool:
              value: {input: stand-in}
        """, "shared.yaml")
    spec(ws, "        task_dir: task")
    ws.write("specs/main.yaml", (ws.root / "specs/main.yaml").read_text()
             .replace("pool: pool", "pool: pipeline.shared.pool"))
    graph = ws.cli("graph").output
    assert '"pipeline.shared.pool" -> "pipeline.p.grade";' in graph
    ws.write("specs/main.yaml", (ws.root / "specs/main.yaml").read_text()
             .replace("pipeline.shared.pool", "pipeline.nowhere.pool"))
    result = ws.cli("validate")
    assert result.exit_code == 1
    assert result.output == ("Error: 1 error in the specs:\n  specs/main.yaml:10:9: "
                             "spec.steps.grade.rubric_set: references pipeline.nowhere.pool, "
                             "which is not defined\n")
