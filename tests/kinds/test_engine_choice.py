"""Which engine a Docker step uses, decided when the specs load (no engine is asked): a
pipeline's `engine` is the default of its Docker steps, a step's own wins, a pool may span
several, and each droplet named becomes a dependency of which only how to reach it counts."""

from __future__ import annotations

import pytest

from runner.kinds.docker_pool import DockerPoolKind, DockerPoolSettings
from runner.kinds.docker_run import DockerRunKind, DockerRunSettings
from runner.kinds.engines import droplet_addresses
from runner.spec.load import load_specs
from runner.workspace import open_workspace

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILXMQZ4AXwCrVSB4ITmonAV2F2t7sNO8OZn/8Hl9aXnH"
DROPLETS = "".join(
    f"apiVersion: taskform/v1\nkind: Droplet\nmetadata: {{name: {name}}}\nspec:\n"
    f"  address: 127.0.0.2\n  ssh_key: {{path: keys/id}}\n  host_key: \"{KEY}\"\n---\n"
    for name in ("lab-1", "lab-2"))


def pipeline(steps: str, engine: str = "") -> str:
    head = f"  engine: {engine}\n" if engine else ""
    return ("apiVersion: taskform/v1\nkind: Pipeline\nmetadata: {name: p}\nspec:\n" + head +
            "  steps:\n" + "".join(f"    {line}\n" for line in steps.strip().splitlines()))


STEPS = """
pull: {docker_pull: {image_tag: "busybox:1"}}
box: {docker_run: {image_tag: "busybox:1", engine: local}}
pool: {docker_pool: {image_tag: "busybox:1", pool_size: 3, engines: [local, lab-2]}}
note: {shell: {command: "true"}}
"""


def test_a_pipelines_engine_is_the_default_of_its_docker_steps(ws) -> None:  # type: ignore[no-untyped-def]
    ws.spec(DROPLETS + pipeline(STEPS, engine="lab-1"))
    specs = load_specs(open_workspace(ws.root))
    by = {str(a): r for a, r in specs.resources.items()}
    assert by["pipeline.p.pull"].settings["engine"] == "lab-1"
    assert by["pipeline.p.box"].settings["engine"] == "local"  # its own wins
    assert "engine" not in by["pipeline.p.pool"].settings  # engines: its own, not overridden
    assert "engine" not in by["pipeline.p.note"].settings  # a shell step has no engine
    deps = {a: sorted(str(d) for d in by[a].depends_on) for a in by if a.startswith("pipeline")}
    assert deps == {"pipeline.p.pull": ["droplet.lab-1"], "pipeline.p.box": [],
                    "pipeline.p.pool": ["droplet.lab-2"], "pipeline.p.note": []}


def test_a_pools_members_take_its_engines_in_turn() -> None:
    settings = DockerPoolSettings.model_validate(
        {"image_tag": "busybox:1", "pool_size": 5, "engines": ["local", "lab-1"]})
    from runner.kinds.base import Expansion

    children = DockerPoolKind().expand(None, settings, Expansion(raw=settings.model_dump(
        exclude_defaults=True)))
    assert children is not None
    assert [c.settings["engine"] for c in children] == ["local", "lab-1", "local", "lab-1",
                                                       "local"]
    assert all("engines" not in c.settings for c in children)


CASES = [
    ("an engine no droplet is", pipeline('box: {docker_run: {image_tag: "b:1", engine: lab-9}}'),
     "specs/main.yaml:22:23: spec.steps.box.docker_run: references droplet.lab-9, which is not "
     "defined"),
    ("engine and engines", pipeline('pool: {docker_pool: {image_tag: "b:1", pool_size: 1, '
                                    'engine: lab-1, engines: [local]}}'),
     "specs/main.yaml:22:25: spec.steps.pool.docker_pool: give engine (one) or engines "
     "(several), not both"),
    ("an engine twice", pipeline('pool: {docker_pool: {image_tag: "b:1", pool_size: 1, '
                                 'engines: [lab-1, lab-1]}}'),
     "specs/main.yaml:22:67: spec.steps.pool.docker_pool.engines: names an engine twice"),
    ("a pipeline engine that is not a name", pipeline('box: {docker_run: {image_tag: "b:1"}}',
                                                      engine="[lab-1]"),
     "specs/main.yaml:21:11: spec.engine: expected the name of an engine: local, or a Droplet's "
     "name; got a list"),
]


@pytest.mark.parametrize(("text", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_each_problem_is_named_with_its_place(ws, text, expected) -> None:  # type: ignore[no-untyped-def]
    ws.spec(DROPLETS + text)
    result = ws.cli("validate")
    assert (result.exit_code, result.output) == (1, f"Error: 1 error in the specs:\n  {expected}\n")


def test_of_a_droplet_only_how_to_reach_it_decides_a_step() -> None:
    droplet = {"address": "127.0.0.2", "port": 22, "user": "root", "host_key": KEY,
               "slots_in_use": 1, "docker_version": "20.10", "capacity": 2}
    settings = DockerRunSettings.model_validate({"image_tag": "b:1", "engine": "lab-1"})
    kind = DockerRunKind()
    assert kind.references(settings) == ["droplet.lab-1"]
    view = kind.dependency_view(None, settings, "droplet.lab-1", droplet)
    assert view == {"address": "127.0.0.2", "port": 22, "user": "root", "host_key": KEY}
    # a pool member depends on every engine of its pool; the others decide nothing of it
    assert kind.dependency_view(None, settings, "droplet.lab-2", droplet) is None
    assert kind.dependency_view(None, settings, "pipeline.p.image", {"x": 1}) == {"x": 1}
    assert droplet_addresses(["local", "lab-1", "lab-1"]) == ["droplet.lab-1"]
