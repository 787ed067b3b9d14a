"""Built images on an engine other workspaces share: known by id, so two workspaces building the
same tag both settle to no-op plans; and replacing an image (by -replace) builds the new one,
replaces the pool and regrades, and only then removes the old one."""

from __future__ import annotations

import pytest
from docker_fixtures import DockerWorkspace, clean, write_app
from grading_workspace import FIXED, make_patch, statuses, write_spec, write_task

from tests.conftest import Workspace

pytestmark = pytest.mark.docker

ADD = "python3 -m unittest tests.test_hidden.Add"


def app_spec(dws: DockerWorkspace, tag: str) -> None:
    dws.spec(f"""
        apiVersion: taskform/v1
        kind: Pipeline
        metadata: {{name: app}}
        spec:
          steps:
            build:
              docker_build: {{context: app, image_tag: "{tag}:dev"}}
            run:
              docker_run: {{image_id: "{{{{ steps.build.image_id }}}}", keep_forever: true}}
        """)


@pytest.fixture
def second(tmp_path, docker_client):  # type: ignore[no-untyped-def]
    root = tmp_path / "second"
    root.mkdir()
    (root / "taskform.yaml").write_text("")
    other = DockerWorkspace(Workspace(root), docker_client)
    try:
        yield other
    finally:
        clean(docker_client, other)


def test_two_workspaces_building_one_tag_both_settle(dws, second):
    for each in (dws, second):
        write_app(each)
        app_spec(each, dws.tag)
    dws.apply()
    first = dws.outputs("pipeline.app.build")["image_id"]
    second.apply()  # builds the same tag: it now points at the second workspace's image
    other = second.outputs("pipeline.app.build")["image_id"]
    assert first != other and dws.client.images.get(f"{dws.tag}:dev").id == other
    for _ in range(2):  # each plans and applies in turn; neither moves the other
        assert dws.plan_lines() == ["No changes. 2 resources match the specs."]
        assert "tag " + dws.tag + ":dev now points to another image" in \
            dws.cli("plan").output
        dws.apply()
        assert second.plan_lines() == ["No changes. 2 resources match the specs."]
        second.apply()
    assert dws.outputs("pipeline.app.build")["image_id"] == first
    run = dws.client.containers.get(dws.outputs("pipeline.app.run")["container_id"])
    assert run.image.id == first


def test_replacing_the_image_of_a_pool_with_gradings_downstream(dws):
    write_task(dws, [("add", ADD, 1, True)], {"solution1": make_patch(FIXED)})
    write_spec(dws, pool_size=2)
    dws.apply()
    old = dws.outputs("pipeline.g.image")["image_id"]
    old_members = {c.id for c in dws.labelled("containers")}
    assert statuses(dws) == {("add", "solution1"): "PASS", ("add", "golden"): "PASS",
                             ("add", "original"): "FAIL"}
    result = dws.cli("apply", "-auto-approve", "-replace", "pipeline.g.image", "-v")
    assert result.exit_code == 0, result.output
    new = dws.outputs("pipeline.g.image")["image_id"]
    assert new != old
    assert f"removed the replaced image {old[7:19]}" in result.output
    members = dws.labelled("containers")
    assert len(members) == 2 and not {c.id for c in members} & old_members
    assert {c.image.id for c in members} == {new}
    assert [i.id for i in dws.labelled("images")] == [new]
    assert statuses(dws) == {("add", "solution1"): "PASS", ("add", "golden"): "PASS",
                             ("add", "original"): "FAIL"}
    assert dws.outputs('pipeline.g.grade["add","solution1"]')["cache_key"] != ""
    assert dws.plan_lines() == ["No changes. 8 resources match the specs."]
