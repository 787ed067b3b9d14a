"""A container create that fails halfway never wedges a workspace: each cause fails with what
the engine said, leaves nothing of taskform's behind, plans again as a retry with the reason,
converges once the spec is fixed, and destroy forgets what never came to exist."""

from __future__ import annotations

import uuid

import pytest
from docker_fixtures import BASE_IMAGE

pytestmark = pytest.mark.docker

STEP = "apiVersion: taskform/v1\nkind: Pipeline\nmetadata: {name: p}\nspec:\n  steps:\n    box:\n"
GOOD = f"      docker_run: {{image_tag: {BASE_IMAGE}, keep_forever: true}}\n"

CAUSES = {
    "memory": (f"      docker_run: {{image_tag: {BASE_IMAGE}, keep_forever: true, "
               "parameters: ['--memory 12zz']}\n",
               "create container tf-p-box-{ws}: invalid request: The specified value for memory "
               "(12zz) should specify the units. The postfix should be one of the `b` `k` `m` "
               "`g` characters"),
    "image": ("      docker_run: {image_tag: nosuch/image:1, keep_forever: true}\n",
              "image nosuch/image:1 is not present on the engine; add a docker_pull or "
              "docker_build step that provides it"),
    "mount": (f"      docker_run: {{image_tag: {BASE_IMAGE}, keep_forever: true, "
              "parameters: ['-v /nonexistent-dir/x:/x:ro,zz']}\n",
              "create container tf-p-box-{ws}: the engine refused: invalid mode: ro,zz"),
    "exits": (f"      docker_run: {{image_tag: {BASE_IMAGE}, keep_forever: true, "
              "command: 'false'}\n",
              "container tf-p-box-{ws} exited at once with code 1; it should keep running "
              "(keep_forever)"),
    "clash": (f"      docker_run: {{image_tag: {BASE_IMAGE}, keep_forever: true, "
              "container_name: CLASH}\n",
              "a container named CLASH already exists and it was not created by taskform; "
              "taskform will not remove it: remove or rename it yourself, or set "
              "container_name"),
}


@pytest.mark.parametrize("cause", sorted(CAUSES))
def test_a_failed_create_fails_cleanly_and_the_next_apply_converges(dws, cause):
    from runner.providers.docker.labels import object_name

    body, message = CAUSES[cause]
    clash = f"tf-test-foreign-{uuid.uuid4().hex[:8]}"
    body, message = body.replace("CLASH", clash), message.replace("CLASH", clash)
    message = message.replace("tf-p-box-{ws}", object_name(str(dws.root.resolve()),
                                                           "pipeline.p.box", ["p", "box"]))
    if cause == "clash":
        dws.docker("run", "-d", "--name", clash, BASE_IMAGE, "sleep", "600")
    try:
        dws.spec(STEP + body)
        failed = dws.cli("apply", "-auto-approve")
        assert failed.exit_code == 1
        assert failed.output.endswith(f"  pipeline.p.box: {message}\n")
        assert dws.labelled("containers") == []  # nothing half-made stays behind
        record = dws.state().records()["pipeline.p.box"]
        assert (record.status, record.outputs, record.error) == ("failed", {}, message)
        again = dws.cli("plan")
        assert again.exit_code == 0 and f"      # the last apply failed: {message}\n" in \
            again.output
        dws.spec(STEP + GOOD)
        dws.apply()
        assert dws.plan_lines() == ["No changes. 1 resource matches the specs."]
        gone = dws.cli("destroy", "-auto-approve")
        assert gone.exit_code == 0 and dws.labelled("containers") == []
    finally:
        if cause == "clash":
            dws.docker("rm", "-f", clash)


def test_destroy_forgets_a_resource_whose_create_failed(dws):
    dws.spec(STEP + CAUSES["image"][0])
    assert dws.cli("apply", "-auto-approve").exit_code == 1
    result = dws.cli("destroy", "-auto-approve")
    assert result.exit_code == 0, result.output
    assert "Complete: 0 created, 0 updated, 0 replaced, 1 destroyed." in result.output
    assert dws.state().records() == {}
