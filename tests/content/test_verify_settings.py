"""`verify:` on a Task as written and as understood: the shorthands, the long form with both
checks, and the children a deployed check adds to the plan (errors with their place are in
tests/spec/test_content_load_errors.py)."""

from __future__ import annotations

from typing import Any

import pytest
from doubles.content import COMPETENCIES, SCENARIO, needs_git
from pydantic import ValidationError

from runner.content.settings import VerifySettings, deploy_verify, docker_verify

CASES: list[tuple[str, Any, bool, dict[str, Any] | None]] = [
    # name, as written, graded in Docker, deployed as (droplet, pool, health command, timeout)
    ("docker shorthand", "docker", True, None),
    ("deploy shorthand: any droplet", "deploy", False,
     {"droplet": None, "pool": None, "health": None, "timeout": "10m"}),
    ("docker long form", {"docker": {"pool_size": 3}}, True, None),
    ("both", {"docker": {}, "deploy": {"droplet": "lab-1", "health": {"command": "true"}}}, True,
     {"droplet": "lab-1", "pool": None, "health": "true", "timeout": "10m"}),
    ("deploy on a pool", {"deploy": {"pool": {"labels": {"region": "lab"}}, "timeout": "1m"}},
     False, {"droplet": None, "pool": {"region": "lab"}, "health": None, "timeout": "1m"}),
]


@pytest.mark.parametrize("name, written, graded, deployed", CASES, ids=[c[0] for c in CASES])
def test_verify_as_written(name: str, written: Any, graded: bool,
                           deployed: dict[str, Any] | None) -> None:
    settings = VerifySettings.model_validate(written)
    assert (docker_verify(settings) is not None) == graded
    found = deploy_verify(settings)
    if deployed is None:
        assert found is None
        return
    assert found is not None
    assert {"droplet": found.droplet, "pool": found.pool.labels if found.pool else None,
            "health": found.health.command if found.health else None,
            "timeout": found.timeout} == deployed


@pytest.mark.parametrize("written, message", [
    ("podman", 'expected docker, deploy, or {docker: {pool_size: 2, ...}, deploy: {droplet: '
               'NAME, ...}}, got "podman"'),
    ({}, "give docker, deploy, or both"),
    ({"deploy": {"droplet": "a", "pool": {"labels": {"r": "x"}}}},
     "give either droplet (a Droplet name) or pool: {labels: {...}}"),
    ({"deploy": {"timeout": "soon"}}, "expected a duration"),
])
def test_verify_refused(written: Any, message: str) -> None:
    with pytest.raises(ValidationError) as raised:
        VerifySettings.model_validate(written)
    assert message in str(raised.value)


DROPLET = """
apiVersion: taskform/v1
kind: Droplet
metadata: {name: lab-1, labels: {region: lab}}
spec:
  address: 127.0.0.2
  ssh_key: {path: keys/id}
  host_key: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILXMQZ4AXwCrVSB4ITmonAV2F2t7sNO8OZn/8Hl9aXnH"
"""


@needs_git
def test_the_plan_shows_the_deployed_check_beside_the_grading(ws) -> None:  # type: ignore[no-untyped-def]
    ws.spec(COMPETENCIES, "competencies.yaml")
    ws.spec(DROPLET + f"""---
apiVersion: taskform/v1
kind: Task
metadata: {{name: items-api}}
spec:
  competencies: [python-fastapi]
  background: shop
  scenario: {{text: "{SCENARIO}"}}
  verify: {{docker: {{pool_size: 1}}, deploy: {{pool: {{labels: {{region: lab}}}}}}}}
""", "task.yaml")
    lines = [line for line in ws.cli("plan").output.splitlines()
             if line.startswith("  + task")]
    assert lines == [
        "  + task.items-api  (task, create)",
        '  + task.items-api["deploy"]  (task_deploy, create)',
        '  + task.items-api["draft"]  (task_draft, create)',
        '  + task.items-api["grade"]  (rubric_set, create)',
        '  + task.items-api["image"]  (docker_build, create)',
        '  + task.items-api["pool",0]  (docker_pool_member, create)',
        '  + task.items-api["pool"]  (docker_pool, create)']
    graph = ws.cli("graph").output
    assert '"task.items-api[\\"draft\\"]" -> "task.items-api[\\"deploy\\"]";' in graph
    assert '"droplet.lab-1" -> "task.items-api[\\"deploy\\"]";' in graph
    assert '"task.items-api[\\"deploy\\"]" -> "task.items-api";' in graph


def test_verify_deploy_alone_is_not_refused_for_a_task_graded_by_review(ws) -> None:  # type: ignore[no-untyped-def]
    # the review-graded refusal is about held-out tests, which only `verify: docker` runs
    ws.spec(COMPETENCIES, "competencies.yaml")
    task = """---
apiVersion: taskform/v1
kind: Task
metadata: {{name: streams}}
spec: {{competencies: [java, kafka], background: shop, verify: {verify}}}
"""
    ws.spec(DROPLET + task.format(verify="deploy"), "task.yaml")
    result = ws.cli("validate")
    assert result.exit_code == 0, result.output
    for refused in ("docker", "{docker: {}, deploy: {droplet: lab-1}}"):
        ws.spec(DROPLET + task.format(verify=refused), "task.yaml")
        result = ws.cli("validate")
        assert result.exit_code == 1 and "graded by review (scaffold generic): remove verify" in \
            result.stderr, (refused, result.output)
