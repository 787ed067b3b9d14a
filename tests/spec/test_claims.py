"""A name the user wrote for two resources (a container name, a volume base) is refused by
validate and plan with both places, before anything runs."""

from __future__ import annotations

import pytest

SPECS = """
apiVersion: taskform/v1
kind: Pipeline
metadata: {name: one}
spec:
  steps:
    web: {docker_run: {image_tag: x, container_name: web}}
    data: {docker_extract_volume: {image_tag: x, volume_name: shared}}
---
apiVersion: taskform/v1
kind: Pipeline
metadata: {name: two}
spec:
  steps:
    web: {docker_run: {image_tag: x, container_name: web}}
    other: {docker_run: {image_tag: x, container_name: other}}
    data: {docker_extract_volume: {image_tag: x, volume_name: shared}}
    later: {docker_run: {image_tag: x, container_name: "{{ var.name }}"}}
"""


def test_validate_names_both_places_of_each_name_taken_twice(ws):
    ws.write("taskform.yaml", "variables: {name: web}\n")
    ws.spec(SPECS)
    result = ws.cli("validate")
    assert result.exit_code == 1
    assert result.output == (
        "Error: 3 errors in the specs:\n"
        "  specs/main.yaml:14:5: pipeline.two.web claims container name web, which "
        "pipeline.one.web (specs/main.yaml:6:5) claims too\n"
        "  specs/main.yaml:16:5: pipeline.two.data claims volume name shared, which "
        "pipeline.one.data (specs/main.yaml:7:5) claims too\n"
        "  specs/main.yaml:17:5: pipeline.two.later claims container name web, which "
        "pipeline.one.web (specs/main.yaml:6:5) claims too\n")


@pytest.mark.docker  # the plan fingerprints the docker_run steps, which asks the engine
def test_plan_sees_a_name_that_a_template_makes_the_same(ws):
    ws.write("taskform.yaml", "variables: {name: other}\n")
    ws.spec(SPECS.replace("container_name: web}}\n    other", "container_name: solo}}\n    other")
            .replace("volume_name: shared}}\n---", "volume_name: mine}}\n---"))
    result = ws.cli("plan")
    assert result.exit_code == 1
    assert result.output == (
        "Error: specs/main.yaml:17:5: pipeline.two.later claims container name other, which "
        "pipeline.two.other (specs/main.yaml:15:5) claims too\n")
