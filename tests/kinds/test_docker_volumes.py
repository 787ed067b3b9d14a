"""docker_extract_volume and docker_volume_pool against the real engine: the app folder copied
into original, golden and solution volumes; long-lived containers mounting them with owner and
git safe.directory set; drift seen; destroy removing only what taskform made."""

from __future__ import annotations

import pytest
from docker_fixtures import write_app

pytestmark = pytest.mark.docker


def pipeline(dws, solutions: str = "[original, golden, solution1]") -> None:
    dws.spec(f"""
        apiVersion: taskform/v1
        kind: Pipeline
        metadata: {{name: v}}
        spec:
          steps:
            build:
              docker_build: {{context: app, image_tag: "{dws.tag}:dev"}}
            extract:
              docker_extract_volume:
                image_id: "{{{{ steps.build.image_id }}}}"
                app_folder: /app
                solutions: 1
            pool:
              docker_volume_pool:
                image_id: "{{{{ steps.build.image_id }}}}"
                volume_prefix: "{{{{ steps.extract.volume_prefix }}}}"
                solutions: {solutions}
                owner: "1000:1000"
                parameters: ["--network none", "--init"]
        """)


def run(dws, container: str, command: str) -> str:
    code, out = dws.client.containers.get(container).exec_run(["sh", "-c", command])
    assert code == 0, out
    return out.decode()


def test_extract_then_pool_mounts_each_copy(dws):
    write_app(dws)
    dws.write("app/.git-marker", "x\n")
    pipeline(dws)
    dws.apply()
    volumes = dws.outputs("pipeline.v.extract")["volumes"]
    prefix = dws.outputs("pipeline.v.extract")["volume_prefix"]
    assert volumes == {k: f"{prefix}_{k}" for k in ("original", "golden", "solution1")}
    for name in volumes.values():
        volume = dws.client.volumes.get(name)
        assert volume.attrs["Labels"]["taskform.address"] == "pipeline.v.extract"
    members = dws.outputs("pipeline.v.pool")["members"]
    assert sorted(members) == ["golden", "original", "solution1"]
    golden = members["golden"]["container_name"]
    assert members["golden"]["volume_name"] == volumes["golden"]
    assert run(dws, golden, "cat /app/main.py") == "print('hello from the app')\n"
    assert run(dws, golden, "stat -c %u:%g /app /app/main.py") == "1000:1000\n1000:1000\n"
    assert run(dws, golden, "git config --system --get-all safe.directory") == "/app\n"
    # the copies are separate: a change in one solution is not seen in another
    run(dws, members["solution1"]["container_name"], "echo changed > /app/main.py")
    assert run(dws, golden, "cat /app/main.py") == "print('hello from the app')\n"
    assert dws.plan_lines() == ["No changes. 6 resources match the specs."]


def test_a_volume_removed_outside_is_drift(dws):
    write_app(dws)
    pipeline(dws, "[golden]")
    dws.apply()
    name = dws.outputs("pipeline.v.extract")["volumes"]["solution1"]
    dws.docker("volume", "rm", name)
    lines = dws.plan_lines()
    assert lines[:2] == ["  ~ pipeline.v.extract  (docker_extract_volume, update)",
                         f"      # volume {name} is gone"]
    dws.apply()
    dws.client.volumes.get(name)


def test_own_volumes_are_seeded_from_the_image_and_removed_on_destroy(dws):
    write_app(dws)
    dws.spec(f"""
        apiVersion: taskform/v1
        kind: Pipeline
        metadata: {{name: v}}
        spec:
          steps:
            build:
              docker_build: {{context: app, image_tag: "{dws.tag}:dev"}}
            pool:
              docker_volume_pool:
                image_id: "{{{{ steps.build.image_id }}}}"
                solutions: [a, b]
        """)
    dws.apply()
    member = dws.outputs('pipeline.v.pool["a"]')
    assert member["owns_volume"] is True
    assert run(dws, member["container_name"], "cat /app/main.py") == \
        "print('hello from the app')\n"
    assert len(dws.labelled("volumes")) == 2
    result = dws.cli("destroy", "-auto-approve")
    assert result.exit_code == 0, result.output
    assert dws.labelled("volumes") == [] and dws.labelled("containers") == []
    assert dws.labelled("images") == []


def test_a_volume_taskform_did_not_make_is_never_used_or_removed(dws):
    write_app(dws)
    dws.spec(f"""
        apiVersion: taskform/v1
        kind: Pipeline
        metadata: {{name: v}}
        spec:
          steps:
            build:
              docker_build: {{context: app, image_tag: "{dws.tag}:dev"}}
            extract:
              docker_extract_volume:
                image_id: "{{{{ steps.build.image_id }}}}"
                volume_name: {dws.tag}
                solutions: 0
                golden: false
        """)
    theirs = dws.client.volumes.create(name=f"{dws.tag}_original")
    try:
        result = dws.cli("apply", "-auto-approve")
        assert result.exit_code == 1
        assert (f"a volume named {dws.tag}_original already exists and it was not created by "
                "taskform; taskform will not use or remove it") in result.output
        dws.client.volumes.get(theirs.name)
    finally:
        theirs.remove()


def test_a_missing_app_folder_is_a_clear_failure(dws):
    write_app(dws)
    dws.spec(f"""
        apiVersion: taskform/v1
        kind: Pipeline
        metadata: {{name: v}}
        spec:
          steps:
            build:
              docker_build: {{context: app, image_tag: "{dws.tag}:dev"}}
            extract:
              docker_extract_volume:
                image_id: "{{{{ steps.build.image_id }}}}"
                app_folder: /nowhere
        """)
    result = dws.cli("apply", "-auto-approve")
    assert result.exit_code == 1
    assert "copying /nowhere out of image sha256:" in result.output
    assert "/nowhere is not a folder in the image" in result.output
    assert dws.labelled("containers") == []  # the copy helper was removed
