"""examples/droplets' grading pool over two engines: the workspace's own and lab-1's, which here
is a second dockerd reached through a test droplet's SSH sessions (tests/engine_fixtures.py).
The example matrix exactly, with gradings on both engines; then the second engine stopped in
the middle of a run: the gradings it held are graded again on the first, and the matrix is
unchanged."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from docker_fixtures import DockerWorkspace, clean
from engine_fixtures import RemoteEngine, remote_engine  # noqa: F401
from grading_workspace import statuses

from tests.conftest import subprocess_env

pytestmark = [pytest.mark.ssh, pytest.mark.docker]

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "droplets"
STEP = "pipeline.grading.grade"
SOLUTIONS = ("solution1", "solution2", "solution3", "golden", "original")


def expected_matrix() -> dict[tuple[str, str], str]:
    """The matrix examples/rubric-grading/README.md shows (the same task is graded here)."""
    text = (REPO / "examples" / "rubric-grading" / "README.md").read_text()
    block = text.split("<!-- expected-matrix")[1].split("<!-- end")[0]
    rows = [[c.strip() for c in line.strip("|").split("|")]
            for line in block.splitlines() if line.startswith("|")][2:]
    return {(row[1], solution): status for row in rows
            for solution, status in zip(SOLUTIONS, row[4:], strict=True)}


def test_the_grading_task_is_the_rubric_grading_examples() -> None:
    """grading/ holds the same files as examples/rubric-grading: one task, one matrix."""
    here = EXAMPLE / "grading"
    there = REPO / "examples" / "rubric-grading"
    for path in sorted(p for p in here.rglob("*") if p.is_file()):
        assert path.read_bytes() == (there / path.relative_to(here)).read_bytes(), path


@pytest.fixture
def example(tmp_path: Path, ws: Any, docker_client: Any,
            remote_engine: RemoteEngine  # noqa: F811
            ) -> Iterator[tuple[DockerWorkspace, dict[str, str], RemoteEngine]]:
    """A copy of the example with lab-1 at the droplet whose sessions reach the second
    engine (only the grading pipeline and lab-1 are applied: -target)."""
    root = tmp_path / "droplets"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns(".taskform", "reports"))
    spec = root / "specs" / "grading.yaml"
    spec.write_text(spec.read_text().replace("taskform/droplets-grading:example",
                                             f"tf-test-{uuid.uuid4().hex[:8]}:latest"))
    sshd = remote_engine.sshd
    with (root / "known_hosts").open("a") as fh:
        fh.write(f"[{sshd.address}]:{sshd.port} {sshd.host_key}\n")
    remote = Path(f"/tmp/tf-example-{uuid.uuid4().hex[:8]}")
    env = {"DROPLET_KEY": remote_engine.fleet.key_text, "REMOTE_DIR": str(remote),
           "LAB1_ADDRESS": sshd.address, "LAB1_PORT": str(sshd.port)}
    ws.root = root
    dws = DockerWorkspace(ws, docker_client)
    try:
        yield dws, env, remote_engine
    finally:
        if remote_engine.engine.answers():
            ws.cli("destroy", "-auto-approve", env=env)
        clean(docker_client, dws)
        shutil.rmtree(remote, ignore_errors=True)


def gradings(dws: DockerWorkspace) -> dict[str, dict[str, Any]]:
    """The outputs of every grading that ran in a container, by address."""
    return {a: dict(r.outputs) for a, r in dws.state().records().items()
            if r.kind == "rubric_shell" and a.startswith(STEP + "[") and r.outputs.get("container")}


def remote_containers(engine: RemoteEngine, dws: DockerWorkspace) -> list[Any]:
    return list(engine.engine.client().containers.list(
        all=True, filters={"label": f"taskform.workspace={dws.root}"}))


def test_the_example_matrix_with_gradings_on_both_engines(example) -> None:  # type: ignore[no-untyped-def]
    dws, env, engine = example
    result = dws.cli("apply", "-auto-approve", "-target", "pipeline.grading", env=env)
    assert result.exit_code == 0, result.output
    assert statuses(dws, STEP) == expected_matrix()
    assert dws.outputs(STEP)["gates"]["ok"] is True
    graded = gradings(dws)
    assert {out.get("engine", "local") for out in graded.values()} == {"local", "lab-1"}
    members = dws.outputs("pipeline.grading.pool")["members"]
    assert [m.get("engine", "local") for m in members] == ["local", "lab-1", "local", "lab-1"]
    assert len({m["image_id"] for m in members}) == 1  # sent, not rebuilt: the same id
    # the sandboxes are gone from both engines; the pool's members stay
    remote = {c.name for c in remote_containers(engine, dws)}
    assert remote == {members[1]["container_name"], members[3]["container_name"]}
    assert {c.name for c in dws.labelled("containers")} == {members[0]["container_name"],
                                                             members[2]["container_name"]}
    plan = dws.cli("plan", "-target", "pipeline.grading", env=env)
    assert "No changes." in plan.output, plan.output
    assert dws.cli("destroy", "-auto-approve", env=env).exit_code == 0
    assert remote_containers(engine, dws) == [] and dws.labelled("containers") == []


class Reader:
    """The lines a process prints, read as they come."""

    def __init__(self, proc: subprocess.Popen[str]):
        self.proc, self.lines = proc, []  # type: list[str]
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def text(self) -> str:
        return "\n".join(self.lines)


def in_flight_on(lines: list[str], engine: str) -> set[str]:
    """Gradings that started on `engine` and have not said how they ended."""
    started, ended = set(), set()
    for line in lines:
        address, _, said = line.partition(": ")
        said = said.removeprefix("| ")  # a step's own lines, under -v
        if re.match(rf"grading in \S+ on {engine}$", said):
            started.add(address)
            ended.discard(address)
        elif re.match(r"(PASS|FAIL|ERROR|TIMEOUT): ", said) or "failed:" in said:
            ended.add(address)
    return started - ended


def test_a_lost_engine_fails_only_its_own_gradings_which_are_graded_again(example) -> None:  # type: ignore[no-untyped-def]
    dws, env, engine = example
    # the image built and sent, the pool made: the run below only grades
    ready = dws.cli("apply", "-auto-approve", "-target", "pipeline.grading.pool", env=env)
    assert ready.exit_code == 0, ready.output
    proc = subprocess.Popen(
        [sys.executable, "-m", "runner", "-C", str(dws.root), "apply", "-auto-approve", "-v",
         "-target", "pipeline.grading"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, env=subprocess_env(env))
    out = Reader(proc)
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and proc.poll() is None:
            done_there = [a for a, o in gradings(dws).items() if o.get("engine") == "lab-1"]
            if done_there and in_flight_on(out.lines, "lab-1"):
                break
            time.sleep(0.02)
        assert proc.poll() is None, "the run ended before the second engine could be stopped:\n" \
            + out.text()
        held = in_flight_on(list(out.lines), "lab-1")
        stopped_at = time.time()
        engine.engine.stop()  # SIGTERM: its containers stop with it
        proc.wait(timeout=600)
        out.thread.join(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    text = out.text()
    assert proc.returncode == 0, text
    assert statuses(dws, STEP) == expected_matrix()
    assert dws.outputs(STEP)["gates"]["ok"] is True
    # lost when a grading's engine stopped answering, or when it could start no more sandboxes
    lost = re.findall(r"engine lab-1 of pool pipeline\.grading\.pool is lost \((.+)\): nothing "
                      r"more is graded there in this run", text)
    assert len(lost) == 1 and "answer" in lost[0], text
    graded = gradings(dws)
    on_lab = {a for a, o in graded.items() if o.get("engine") == "lab-1"}
    assert on_lab  # graded there before it was lost
    # what lab-1 held when it stopped was graded again here: at once on another engine
    # (EngineLost), or by the step's retry when the engine still answered a moment longer
    # (one that ended on lab-1 in the moment before it stopped keeps its result from there)
    # (all it held can end there in that moment: CI saw it once, and then none is graded again)
    retried = {a for a in held if "engine" not in graded[a]}
    assert all(a in retried or _seconds(graded[a]["finished_at"]) <= stopped_at + 1
               for a in held), (held, text)
    again = {line.partition(": ")[0] for line in text.splitlines()
             if line.endswith("no longer answers: grading again on another engine")}
    # each said so and was graded here (one may have started on lab-1 after `held` was read)
    assert all("engine" not in graded[a] for a in again), text
    finished_late = [a for a in on_lab
                     if _seconds(graded[a]["finished_at"]) > stopped_at + 1]
    assert finished_late == []  # nothing was graded on the lost engine after it stopped


def _seconds(iso: str) -> float:
    import datetime as dt

    return dt.datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()
