"""`taskform gc` against the real engine: lists labelled objects of this workspace that no
record owns, removes them only with --yes, and never lists anything else."""

from __future__ import annotations

import json

import pytest
from docker_fixtures import BASE_IMAGE

pytestmark = pytest.mark.docker


def pool(dws, size: int = 2) -> None:
    dws.spec(f"""
        apiVersion: taskform/v1
        kind: Pipeline
        metadata: {{name: g}}
        spec:
          steps:
            workers:
              docker_pool: {{image_tag: {BASE_IMAGE}, pool_size: {size}}}
        """)


def test_gc_lists_then_removes_only_unowned_labelled_objects(dws):
    pool(dws)
    dws.apply()
    forgotten = dws.outputs("pipeline.g.workers[1]")["container_name"]
    kept = dws.outputs("pipeline.g.workers[0]")["container_name"]
    assert dws.cli("state", "rm", "pipeline.g.workers[1]").exit_code == 0
    other_ws = dws.client.containers.run(
        BASE_IMAGE, "sleep infinity", detach=True, name=f"{dws.tag}-other",
        labels={"taskform.workspace": "/somewhere/else", "taskform.address": "pipeline.g.x"})
    plain = dws.client.containers.run(BASE_IMAGE, "sleep infinity", detach=True,
                                      name=f"{dws.tag}-plain")
    try:
        result = dws.cli("gc")
        assert result.exit_code == 0, result.output
        assert result.output == (
            "1 labelled object of this workspace that no state record owns:\n"
            f"  container {forgotten}  (no state record for pipeline.g.workers[1])\n"
            "Run `taskform gc --yes` to remove them.\n")
        dws.client.containers.get(forgotten)  # listing removes nothing

        listed = json.loads(dws.cli("gc", "--json").output)
        assert [(o["type"], o["name"], o["address"]) for o in listed] == [
            ("container", forgotten, "pipeline.g.workers[1]")]

        result = dws.cli("gc", "--yes")
        assert result.output.endswith(f"removed container {forgotten}\n")
        names = {c.name for c in dws.client.containers.list(all=True)}
        assert forgotten not in names
        assert {kept, other_ws.name, plain.name} <= names
        assert dws.cli("gc").output.startswith("No unowned objects")
    finally:
        other_ws.remove(force=True)
        plain.remove(force=True)


def test_an_old_build_still_labelled_is_listed_as_not_the_recorded_one(dws):
    from docker_fixtures import write_app

    write_app(dws)
    dws.spec(f"""
        apiVersion: taskform/v1
        kind: Pipeline
        metadata: {{name: g}}
        spec:
          steps:
            build:
              docker_build: {{context: app, image_tag: "{dws.tag}:dev"}}
        """)
    dws.apply()
    old = dws.outputs("pipeline.g.build")["image_id"]
    holder = dws.client.containers.run(old, "sleep infinity", detach=True)  # keeps it alive
    try:
        dws.write("app/main.py", "print(2)\n")
        dws.apply()
        result = dws.cli("gc")
        assert (f"  image     {old.removeprefix('sha256:')[:12]}  (pipeline.g.build records "
                "another image)") in result.output
    finally:
        holder.remove(force=True)
    assert dws.cli("gc", "--yes").exit_code == 0
    assert [i.id for i in dws.labelled("images")] == [dws.outputs("pipeline.g.build")["image_id"]]


def test_gc_with_an_unreachable_engine_is_one_clear_error(ws, tmp_path):
    ws.write("taskform.yaml", f"docker: {{host: unix://{tmp_path}/none.sock}}\n")
    proc = ws.run("gc")
    assert proc.returncode == 1
    assert proc.stderr.startswith(f"Error: cannot reach the Docker engine at unix://{tmp_path}/"
                                  "none.sock: ")
