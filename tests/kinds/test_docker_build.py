"""docker_build against the real engine: hash-triggered rebuilds that really skip, deleted
images seen as drift, failures kept with their log, and destroy removing what it built."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from docker_fixtures import write_app

from tests.conftest import subprocess_env

pytestmark = pytest.mark.docker


def pipeline(dws, extra: str = "") -> None:
    dws.spec(f"""
        apiVersion: taskform/v1
        kind: Pipeline
        metadata: {{name: app}}
        spec:
          steps:
            build:
              docker_build: {{context: app, image_tag: "{dws.tag}:dev"{extra}}}
            after:
              value: {{input: "{{{{ steps.build.image_id }}}}"}}
            unrelated:
              value: {{input: 1}}
        """)


def test_build_then_no_op_then_rebuild_of_a_changed_file_and_its_dependents_only(dws):
    write_app(dws)
    dws.write("app/.dockerignore", "README.md\n")
    pipeline(dws)
    dws.apply()
    first = dws.outputs("pipeline.app.build")
    image = dws.client.images.get(f"{dws.tag}:dev")
    assert first["image_id"] == image.id and first["image_tag"] == f"{dws.tag}:dev"
    assert image.labels["taskform.address"] == "pipeline.app.build"
    assert image.labels["taskform.workspace"] == str(dws.root)
    assert "taskform.config-hash" in image.labels and "taskform.run" in image.labels
    assert "Successfully built" in first["log_tail"]
    assert dws.plan_lines() == ["No changes. 3 resources match the specs."]

    dws.write("app/README.md", "ignored by .dockerignore: no rebuild\n")
    assert dws.plan_lines() == ["No changes. 3 resources match the specs."]

    dws.write("app/main.py", "print('changed')\n")
    assert dws.plan_lines() == [
        "  ~ pipeline.app.after  (value, update)",
        "      # pipeline.app.build will change",
        "  ~ pipeline.app.build  (docker_build, update)",
        "      # file app/main.py changed",
        "Plan: 0 to create, 2 to update, 0 to replace, 0 to destroy, 1 unchanged.",
    ]
    dws.apply()
    second = dws.outputs("pipeline.app.build")
    assert second["image_id"] != first["image_id"]
    assert dws.outputs("pipeline.app.after")["value"] == second["image_id"]
    out = dws.docker("run", "--rm", f"{dws.tag}:dev", "python3", "/app/main.py").stdout
    assert out == "changed\n"
    assert dws.plan_lines() == ["No changes. 3 resources match the specs."]


def test_watched_files_narrow_the_trigger(dws):
    write_app(dws)
    pipeline(dws, ', files: ["app/main.py"]')
    dws.apply()
    dws.write("app/README.md", "not watched\n")
    assert dws.plan_lines() == ["No changes. 3 resources match the specs."]
    dws.write("app/Dockerfile", (dws.root / "app/Dockerfile").read_text() + "ENV X=1\n")
    assert dws.plan_lines()[:4] == [
        "  ~ pipeline.app.after  (value, update)",
        "      # pipeline.app.build will change",
        "  ~ pipeline.app.build  (docker_build, update)",
        "      # file app/Dockerfile changed",
    ]


def test_build_args_and_base_image_are_in_the_fingerprint(dws):
    write_app(dws, extra="ARG GREETING=hi\nRUN echo $GREETING > /greeting\n")
    pipeline(dws, ', build_args: {GREETING: "hello"}')
    dws.apply()
    out = dws.docker("run", "--rm", f"{dws.tag}:dev", "cat", "/greeting").stdout
    assert out == "hello\n"
    pipeline(dws, ', build_args: {GREETING: "bonjour"}')
    lines = dws.plan_lines()
    assert "      # setting build_args changed" in lines
    fingerprint = dws.state().records()["pipeline.app.build"].fingerprint
    base = dws.client.images.get("taskform/base:bookworm").id
    assert fingerprint["base image taskform/base:bookworm"] == base


def test_image_deleted_outside_is_rebuilt_with_the_reason(dws):
    write_app(dws)
    pipeline(dws)
    dws.apply()
    image_id = dws.outputs("pipeline.app.build")["image_id"]
    dws.docker("rmi", "-f", f"{dws.tag}:dev")
    assert dws.plan_lines()[:4] == [
        "  ~ pipeline.app.after  (value, update)",
        "      # pipeline.app.build will change",
        "  ~ pipeline.app.build  (docker_build, update)",
        f"      # image {dws.tag}:dev ({image_id.removeprefix('sha256:')[:12]}) was deleted "
        "outside taskform",
    ]
    dws.apply()
    assert dws.client.images.get(f"{dws.tag}:dev").id == dws.outputs("pipeline.app.build")["image_id"]


def test_a_tag_moved_outside_is_a_note_and_changes_nothing(dws):
    write_app(dws)
    pipeline(dws)
    dws.apply()
    built = dws.outputs("pipeline.app.build")["image_id"]
    dws.docker("tag", "taskform/base:bookworm", f"{dws.tag}:dev")
    base = dws.client.images.get("taskform/base:bookworm").id
    result = dws.cli("plan", "-detailed-exitcode")
    assert result.exit_code == 0
    assert result.output == (
        "Notes (nothing to change for these):\n"
        f"  pipeline.app.build: tag {dws.tag}:dev now points to another image ({base[7:19]}); "
        f"this workspace goes on using the image it built ({built[7:19]}) by its id "
        "(`taskform apply -replace pipeline.app.build` builds and tags it again)\n\n"
        "No changes. 3 resources match the specs.\n")
    dws.apply()
    assert dws.outputs("pipeline.app.build")["image_id"] == built
    assert dws.outputs("pipeline.app.after")["value"] == built
    dws.apply("-replace", "pipeline.app.build")
    assert dws.client.images.get(f"{dws.tag}:dev").id == dws.outputs("pipeline.app.build")["image_id"]
    assert dws.plan_lines() == ["No changes. 3 resources match the specs."]


def test_a_tag_removed_outside_is_a_note_while_the_image_stays(dws):
    write_app(dws)
    pipeline(dws, f', tags: ["{dws.tag}:extra"]')
    dws.apply()
    built = dws.outputs("pipeline.app.build")["image_id"]
    dws.docker("rmi", f"{dws.tag}:dev")  # untags only: the image keeps its other tag
    result = dws.cli("plan", "-detailed-exitcode", "--json")
    assert result.exit_code == 0
    change = next(c for c in json.loads(result.output)["changes"]
                  if c["address"] == "pipeline.app.build")
    assert (change["action"], change["notes"]) == ("no-op", [
        f"tag {dws.tag}:dev was removed; this workspace goes on using the image it built "
        f"({built[7:19]}) by its id (`taskform apply -replace pipeline.app.build` builds and "
        "tags it again)"])
    dws.docker("rmi", f"{dws.tag}:extra")  # its last tag: the engine deletes the image
    assert dws.plan_lines()[2:4] == [
        "  ~ pipeline.app.build  (docker_build, update)",
        f"      # image {dws.tag}:dev ({built[7:19]}) was deleted outside taskform"]


def test_workspace_scoped_tags_are_this_workspaces_alone(dws):
    from runner.providers.docker.labels import workspace_tag

    dws.write("taskform.yaml", "docker: {tag_scope: workspace}\n")
    write_app(dws)
    pipeline(dws, f', tags: ["{dws.tag}:extra"]')
    dws.apply()
    suffix = workspace_tag(str(dws.root))
    outputs = dws.outputs("pipeline.app.build")
    assert outputs["image_tag"] == f"{dws.tag}:dev-{suffix}"
    assert outputs["tags"] == [f"{dws.tag}:dev-{suffix}", f"{dws.tag}:extra-{suffix}"]
    image = dws.client.images.get(outputs["image_id"])
    assert sorted(image.tags) == sorted(outputs["tags"])
    assert dws.plan_lines() == ["No changes. 3 resources match the specs."]


def test_a_failing_build_is_a_failed_step_with_its_log(dws):
    write_app(dws, extra="RUN echo about to fail && exit 3\n")
    pipeline(dws)
    result = dws.cli("apply", "-auto-approve")
    assert result.exit_code == 1
    assert "pipeline.app.build: FAILED" in result.output
    assert "build of " in result.output and "returned a non-zero code: 3" in result.output
    assert "about to fail" in result.output
    assert "    1 resource not applied because pipeline.app.build failed (-v lists them)\n" \
        in result.output


def test_missing_dockerfile_and_escaping_context_are_clear(dws):
    pipeline(dws)
    (dws.root / "app").mkdir()
    result = dws.cli("apply", "-auto-approve")
    assert "FAILED: no Dockerfile at app/Dockerfile" in result.output
    dws.spec("""
        apiVersion: taskform/v1
        kind: Pipeline
        metadata: {name: app}
        spec:
          steps:
            build:
              docker_build: {context: "../..", image_tag: "x:y"}
        """)
    result = dws.cli("plan")
    assert result.exit_code == 1
    assert ("spec.steps.build.docker_build.context: expected a path inside the workspace, got "
            "\"../..\" (it climbs out of the workspace with ..)") in result.output


def test_destroy_removes_every_image_it_built_and_only_those(dws):
    write_app(dws)
    dws.spec(f"""
        apiVersion: taskform/v1
        kind: Pipeline
        metadata: {{name: app}}
        spec:
          steps:
            build:
              docker_build: {{context: app, image_tag: "{dws.tag}:dev", tags: ["{dws.tag}:extra"]}}
            run:
              docker_run: {{image_id: "{{{{ steps.build.image_id }}}}", keep_forever: true}}
        """)
    dws.apply()
    first = dws.outputs("pipeline.app.build")["image_id"]
    dws.docker("tag", "taskform/base:bookworm", f"{dws.tag}:not-ours")
    dws.write("app/main.py", "print(2)\n")
    result = dws.apply("-v")
    # built first; the container that ran the old build replaced; then the old build removed
    assert f"removed the replaced image {first.removeprefix('sha256:')[:12]}" in result.output
    assert len(dws.labelled("images")) == 1
    dws.write("app/main.py", "print(3)\n")
    dws.docker("run", "-d", "--name", f"{dws.tag}-foreign", dws.outputs("pipeline.app.build")
               ["image_id"], "sleep", "600")
    second = dws.outputs("pipeline.app.build")["image_id"]
    result = dws.apply()
    assert (f"pipeline.app.build: kept the replaced image {second[7:19]}: container "
            f"{dws.tag}-foreign (not all taskform's) still uses it; `taskform gc` removes it "
            "once nothing does\n") in result.output
    dws.docker("rm", "-f", f"{dws.tag}-foreign")
    assert len(dws.labelled("images")) == 2
    result = dws.cli("destroy", "-auto-approve")
    assert result.exit_code == 0, result.output
    assert dws.labelled("images") == [] and dws.labelled("containers") == []
    assert dws.client.images.get(f"{dws.tag}:not-ours").id == \
        dws.client.images.get("taskform/base:bookworm").id
    dws.docker("rmi", f"{dws.tag}:not-ours")


def test_unsupported_build_params_are_load_errors(ws):
    ws.spec("""
        apiVersion: taskform/v1
        kind: Pipeline
        metadata: {name: app}
        spec:
          steps:
            build:
              docker_build: {image_tag: "x:1", params: ["--squash"]}
        """)
    result = ws.cli("validate")
    assert result.output == (
        "Error: 1 error in the specs:\n  specs/main.yaml:7:48: spec.steps.build.docker_build."
        "params: unsupported docker build parameter '--squash'; supported: --no-cache, --pull, "
        "--network, --platform, --build-arg, --target\n")


def test_build_params_reach_the_build(dws):
    write_app(dws, extra="ARG NOTE=unset\nRUN echo $NOTE > /note\n")
    pipeline(dws, ', params: ["--no-cache", "--build-arg NOTE=from-params"]')
    result = dws.apply("-v")
    assert "Using cache" not in result.output
    out = dws.docker("run", "--rm", f"{dws.tag}:dev", "cat", "/note").stdout
    assert out == "from-params\n"


def test_the_workspace_as_context_leaves_the_state_out(dws):
    write_app(dws, folder=".")
    dws.spec(f"""
        apiVersion: taskform/v1
        kind: Pipeline
        metadata: {{name: app}}
        spec:
          steps:
            build:
              docker_build: {{image_tag: "{dws.tag}:dev"}}
        """)
    dws.apply()
    assert not any(k.startswith("file:.taskform")
                   for k in dws.state().records()["pipeline.app.build"].fingerprint)
    # the state changed with that apply; the image does not depend on it
    assert dws.plan_lines() == ["No changes. 1 resource matches the specs."]
    out = dws.docker("run", "--rm", f"{dws.tag}:dev", "sh", "-c", "ls -A /app").stdout.split()
    assert ".taskform" not in out and "main.py" in out and "specs" in out


def test_a_plan_without_refresh_asks_no_engine_and_loads_no_sdk(dws):
    write_app(dws)
    pipeline(dws)
    dws.apply()
    code = ("import sys\nfrom runner.cli import main\ntry:\n    main(sys.argv[1:])\n"
            "except SystemExit:\n    pass\nprint('docker' in sys.modules)\n")
    env = subprocess_env({"DOCKER_HOST": "unix:///nonexistent/docker.sock"})
    args = [sys.executable, "-c", code, "-C", str(dws.root), "plan", "-refresh=false"]
    for _ in range(2):  # the second run finds the spec files in the cache
        proc = subprocess.run(args, capture_output=True, text=True, env=env, timeout=120)
    assert proc.stdout == "No changes. 3 resources match the specs.\nFalse\n", proc.stderr
