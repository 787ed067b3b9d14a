"""Malformed content documents (ScenarioSet, Task, TaskPool, model_task_check) are load errors
with file:line:column, the YAML path and what was expected; exit 1, no traceback."""

from __future__ import annotations

import pytest
from doubles.content import COMPETENCIES

ERRORS = [
    ("task unknown key", """
        apiVersion: taskform/v1
        kind: Task
        metadata: {name: t}
        spec: {competencies: [python-fastapi], background: shop, scenarios: x}
        """,
     "specs/main.yaml:4:58: spec.scenarios: unknown key 'scenarios'; expected one of: "
     "background, competencies, generator, minutes, publish, scenario, verify"),
    ("verify by something else", """
        apiVersion: taskform/v1
        kind: Task
        metadata: {name: t}
        spec: {competencies: [python-fastapi], background: shop, verify: podman}
        """,
     "specs/main.yaml:4:66: spec.verify: expected docker, deploy, or {docker: {pool_size: 2, "
     '...}, deploy: {droplet: NAME, ...}}, got "podman"'),
    ("verify neither docker nor deploy", """
        apiVersion: taskform/v1
        kind: Task
        metadata: {name: t}
        spec: {competencies: [python-fastapi], background: shop, verify: {}}
        """,
     "specs/main.yaml:4:66: spec.verify: give docker, deploy, or both"),
    ("verify deploy on an unknown droplet", """
        apiVersion: taskform/v1
        kind: Task
        metadata: {name: t}
        spec:
          competencies: [python-fastapi]
          background: shop
          verify: {deploy: {droplet: lab-9}}
        """,
     "specs/main.yaml:5:3: spec: references droplet.lab-9, which is not defined"),
    ("verify deploy with no droplet at all", """
        apiVersion: taskform/v1
        kind: Task
        metadata: {name: t}
        spec: {competencies: [python-fastapi], background: shop, verify: deploy}
        """,
     "specs/main.yaml:4:66: spec.verify: no droplet has the labels {} (0 droplet document(s))"),
    ("verify deploy on a droplet and a pool", """
        apiVersion: taskform/v1
        kind: Task
        metadata: {name: t}
        spec:
          competencies: [python-fastapi]
          background: shop
          verify: {deploy: {droplet: lab-1, pool: {labels: {region: lab}}}}
        """,
     "specs/main.yaml:7:20: spec.verify.deploy: give either droplet (a Droplet name) or pool: "
     "{labels: {...}}"),
    ("verify deploy health without a command", """
        apiVersion: taskform/v1
        kind: Task
        metadata: {name: t}
        spec:
          competencies: [python-fastapi]
          background: shop
          verify: {deploy: {droplet: lab-1, health: {retries: 2}}}
        """,
     "specs/main.yaml:7:45: spec.verify.deploy.health.command: required key is missing"),
    ("verify deploy in a task pool", """
        apiVersion: taskform/v1
        kind: TaskPool
        metadata: {name: p}
        spec:
          competencies: [python-fastapi]
          background: shop
          min_available: 1
          max_total: 2
          verify: deploy
        """,
     "specs/main.yaml:5:3: spec: verify: deploy is given per Task (its droplets are its "
     "dependencies); a TaskPool verifies its tasks with docker"),
    ("verify pool too small", """
        apiVersion: taskform/v1
        kind: Task
        metadata: {name: t}
        spec:
          competencies: [python-fastapi]
          background: shop
          verify: {docker: {pool_size: 0}}
        """,
     "specs/main.yaml:7:32: spec.verify.docker.pool_size: expected greater than or equal to 1, "
     "got 0"),
    ("verify unknown option", """
        apiVersion: taskform/v1
        kind: TaskPool
        metadata: {name: p}
        spec:
          competencies: [python-fastapi]
          background: shop
          min_available: 1
          max_total: 2
          verify: {docker: {pool: 3}}
        """,
     "specs/main.yaml:9:21: spec.verify.docker.pool: unknown key 'pool'; expected one of: "
     "pool_size, repeat, report, timeout_seconds"),
    ("task without competencies", """
        apiVersion: taskform/v1
        kind: Task
        metadata: {name: t}
        spec: {competencies: [], background: shop}
        """,
     "specs/main.yaml:4:22: spec.competencies: List should have at least 1 item after "
     "validation, not 0, got a list"),
    ("scenario text and index", """
        apiVersion: taskform/v1
        kind: Task
        metadata: {name: t}
        spec:
          competencies: [python-fastapi]
          background: shop
          scenario: {text: hello, index: 1}
        """,
     "specs/main.yaml:7:13: spec.scenario: give either text, or set with index"),
    ("dangling competency", """
        apiVersion: taskform/v1
        kind: Task
        metadata: {name: t}
        spec: {competencies: [python-fastapi, golang], background: shop}
        """,
     "specs/main.yaml:4:7: spec: references competency.golang, which is not defined"),
    ("github without owner", """
        apiVersion: taskform/v1
        kind: Task
        metadata: {name: t}
        spec:
          competencies: [python-fastapi]
          background: shop
          publish: {to: github}
        """,
     "specs/main.yaml:7:12: spec.publish: publish to github needs an owner (organisation or "
     "user)"),
    ("bad visibility", """
        apiVersion: taskform/v1
        kind: Task
        metadata: {name: t}
        spec:
          competencies: [python-fastapi]
          background: shop
          publish: {visibility: secret}
        """,
     "specs/main.yaml:7:25: spec.publish.visibility: expected 'private', 'public' or "
     "'internal', got \"secret\""),
    ("pool bounds", """
        apiVersion: taskform/v1
        kind: TaskPool
        metadata: {name: p}
        spec: {competencies: [python-fastapi], background: shop, min_available: 5, max_total: 2}
        """,
     "specs/main.yaml:4:7: spec: max_total (2) must be at least min_available (5)"),
    ("pool dangling scenario set", """
        apiVersion: taskform/v1
        kind: TaskPool
        metadata: {name: p}
        spec: {competencies: [python-fastapi], background: shop, scenarios: none,
               min_available: 1, max_total: 2}
        """,
     "specs/main.yaml:4:7: spec: references scenario_set.none, which is not defined"),
    ("scenario set count", """
        apiVersion: taskform/v1
        kind: ScenarioSet
        metadata: {name: s}
        spec: {competencies: [python-fastapi], generate: {count: 0}}
        """,
     "specs/main.yaml:4:58: spec.generate.count: expected greater than or equal to 1, got 0"),
    ("scenario set proficiency", """
        apiVersion: taskform/v1
        kind: ScenarioSet
        metadata: {name: s}
        spec: {competencies: [python-fastapi], proficiency: EXPERT}
        """,
     "specs/main.yaml:4:53: spec.proficiency: expected 'BEGINNER', 'BASIC', 'INTERMEDIATE' or "
     "'ADVANCED', got \"EXPERT\""),
    ("model_task_check missing file", """
        apiVersion: taskform/v1
        kind: Pipeline
        metadata: {name: p}
        spec:
          steps:
            check:
              model_task_check: {task_prompt: a.md, rubrics_json: r.json}
        """,
     "specs/main.yaml:7:25: spec.steps.check.model_task_check.held_out_tests: required key is "
     "missing"),
]


@pytest.mark.parametrize("name, text, expected", ERRORS, ids=[e[0] for e in ERRORS])
def test_content_document_errors(ws, name: str, text: str, expected: str) -> None:  # type: ignore[no-untyped-def]
    ws.spec(COMPETENCIES, "competencies.yaml")
    ws.spec(text)
    result = ws.cli("validate")
    assert result.exit_code == 1
    assert result.stderr == f"Error: 1 error in the specs:\n  {expected}\n"
