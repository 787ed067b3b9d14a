"""model_task_check: the prompt sample filled with the task prompt, rubric and held-out patch
(attached by reference when large), run through the provider, verdict stored; reruns on input
change or force; a failing verdict fails the step."""

from __future__ import annotations

import json

from doubles.content import COMPETENCIES, needs_git

pytestmark = needs_git

TASK_AND_CHECK = """
apiVersion: taskform/v1
kind: Task
metadata: {name: items-api}
spec: {competencies: [python-fastapi], background: shop}
---
apiVersion: taskform/v1
kind: Pipeline
metadata: {name: review}
spec:
  steps:
    check:
      model_task_check:
        task_prompt: '{{ ref("task.items-api").dir }}/starter/README.md'
        rubrics_json: '{{ ref("task.items-api").grading.rubrics }}'
        held_out_tests: '{{ ref("task.items-api").grading.held_out_tests }}'
"""


def test_checks_a_generated_task(ws) -> None:  # type: ignore[no-untyped-def]
    ws.spec(COMPETENCIES, "competencies.yaml")
    ws.spec(TASK_AND_CHECK, "task.yaml")
    result = ws.cli("apply", "-auto-approve")
    assert result.exit_code == 0, result.stdout
    out = ws.state().records()["pipeline.review.check"].outputs
    assert out["verdict"] == "pass" and out["issues"] == []
    assert out["summary"] == "3 criteria; every one runs a test the held-out patch adds"
    prompt = (ws.root / out["generated_file"]).read_text()
    assert out["generated_file"] == ".taskform/checks/review-check.md"
    assert "## Task Overview" in prompt and '"rubricItemId"' in prompt
    assert "+++ b/tests/held_out/test_validation.py" in prompt
    assert "{YOUR_RUBRIC}" not in prompt and out["attachment"] is None
    assert "No changes." in ws.cli("plan").stdout


def files(ws, rubric: list[dict], patch: str) -> None:  # type: ignore[no-untyped-def]
    ws.write("task/PROMPT.md", "Fix the items service.\n")
    ws.write("task/rubrics.json", json.dumps(rubric))
    ws.write("task/held_out_tests.patch", patch)


def criterion(command: str) -> dict:
    return {"rubricItemId": "c1", "score": 5, "criterion": "it works", "required": True,
            "forms": {"f": {"criterion_test_command": command}}}


PATCH = ("diff --git a/tests/test_a.py b/tests/test_a.py\nnew file mode 100644\n--- /dev/null\n"
         "+++ b/tests/test_a.py\n@@ -0,0 +1 @@\n+import unittest\n")
STEP = """
apiVersion: taskform/v1
kind: Pipeline
metadata: {name: review}
spec:
  steps:
    check:
      model_task_check:
        task_prompt: task/PROMPT.md
        rubrics_json: task/rubrics.json
        held_out_tests: task/held_out_tests.patch
"""


def test_a_failing_verdict_fails_the_step(ws) -> None:  # type: ignore[no-untyped-def]
    files(ws, [criterion("python3 -m unittest tests.test_b")], PATCH)
    ws.spec(STEP)
    result = ws.cli("apply", "-auto-approve")
    assert result.exit_code == 1
    record = ws.state().records()["pipeline.review.check"]
    assert record.status == "failed"
    assert record.error == "the model task check failed: 1 problem(s) found"
    assert record.output == ("- criterion c1 runs tests/test_b.py, which the held-out patch does "
                             "not add")
    files(ws, [criterion("python3 -m unittest tests.test_a")], PATCH)
    plan = ws.cli("plan")
    assert "# file task/rubrics.json changed" not in plan.stdout  # failed: rerun anyway
    assert "the last apply failed" in plan.stdout
    assert ws.cli("apply", "-auto-approve").exit_code == 0
    files(ws, [criterion("python3 -m unittest tests.test_a"), {**criterion("x"),
                                                               "rubricItemId": "c2"}], PATCH)
    plan = ws.cli("plan")
    assert "# file task/rubrics.json changed" in plan.stdout


def test_a_large_patch_is_attached_by_reference(ws) -> None:  # type: ignore[no-untyped-def]
    big = PATCH + "".join(f"+# line {n}\n" for n in range(400))
    files(ws, [criterion("python3 -m unittest tests.test_a")], big)
    ws.spec(STEP.replace("held_out_tests.patch", "held_out_tests.patch\n        attach_above: 2048"))
    result = ws.cli("apply", "-auto-approve")
    assert result.exit_code == 0, result.stdout
    out = ws.state().records()["pipeline.review.check"].outputs
    assert out["attachment"] == ".taskform/checks/review-check.held_out_tests.patch"
    prompt = (ws.root / out["generated_file"]).read_text()
    assert ("<held_out_test_patch>provided as an attached file: review-check.held_out_tests.patch"
            "</held_out_test_patch>") in prompt
    assert (ws.root / out["attachment"]).read_text() == big


def test_force_reruns_on_every_apply(ws) -> None:  # type: ignore[no-untyped-def]
    files(ws, [criterion("python3 -m unittest tests.test_a")], PATCH)
    ws.spec(STEP.replace("held_out_tests.patch", "held_out_tests.patch\n        force: true"))
    assert ws.cli("apply", "-auto-approve").exit_code == 0
    plan = ws.cli("plan")
    assert "~ pipeline.review.check  (model_task_check, update)" in plan.stdout
    assert "# force is set: it runs on every apply" in plan.stdout


def test_a_custom_sample_with_the_seeds_placeholders(ws) -> None:  # type: ignore[no-untyped-def]
    files(ws, [criterion("python3 -m unittest tests.test_a")], PATCH)
    ws.write("TRAINER_PROMPT.md", "Task: {YOUR_TASK_PROMPT}\nRubric: {YOUR_RUBRIC}\n"
             "<held_out_test_patch>{held_out_test_patch}</held_out_test_patch>\n")
    ws.spec(STEP.replace("held_out_tests.patch", "held_out_tests.patch\n"
                         "        model_prompt_sample: TRAINER_PROMPT.md\n"
                         "        generated_file: out/prompt.md"))
    assert ws.cli("apply", "-auto-approve").exit_code == 0
    text = (ws.root / "out/prompt.md").read_text()
    assert text.startswith("Task: Fix the items service.\n\nRubric: [{")
