"""Fresh sandboxes on the real engine: each is lent once, every used one and every unused spare
is removed by the end of the run (removal runs in the background), and a spare's grading
script goes to the process started in it ahead, not to a new exec."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from docker_fixtures import BASE_IMAGE, ENGINE, docker_client  # noqa: F401

from runner.providers.call import Call
from runner.providers.docker.engine import DockerEngine
from runner.providers.docker.labels import LABEL_SANDBOX, LABEL_WORKSPACE, Owner
from runner.providers.docker.script import ARGUMENT_LIMIT, run_script
from runner.rubric.lockdown import HARNESS_CAPS
from runner.rubric.sandbox import SandboxSupplier

pytestmark = pytest.mark.docker


@pytest.fixture
def owner(tmp_path: Path, docker_client: Any) -> Iterator[Owner]:  # noqa: F811
    found = Owner(str(tmp_path), "pipeline.t.pool", f"r-{uuid.uuid4().hex[:8]}")
    yield found
    for container in docker_client.containers.list(
            all=True, filters={"label": f"{LABEL_WORKSPACE}={found.workspace}"}):
        container.remove(force=True, v=True)


@pytest.fixture
def supplier(owner: Owner, docker_client: Any) -> Iterator[SandboxSupplier]:  # noqa: F811
    docker_client.containers.run(
        BASE_IMAGE, ["sleep", "infinity"], name=f"tf-test-pool-{uuid.uuid4().hex[:8]}",
        detach=True, init=True, network_mode="none", mem_limit="256m", pids_limit=128,
        nano_cpus=10**9, cap_drop=["ALL"], cap_add=list(HARNESS_CAPS),
        security_opt=["no-new-privileges"], labels=owner.labels())
    engine = DockerEngine(ENGINE)
    template = engine.containers({"label": [f"{LABEL_WORKSPACE}={owner.workspace}"]})[0]
    made = SandboxSupplier(engine, "pipeline.t.pool", owner, [template, template], "/app")
    yield made
    made.close()


def sandboxes(client: Any, owner: Owner) -> list[str]:
    return [c.name for c in client.containers.list(all=True, filters={"label": [
        f"{LABEL_WORKSPACE}={owner.workspace}", f"{LABEL_SANDBOX}=pipeline.t.pool"]})]


def test_each_sandbox_is_lent_once_and_every_one_is_removed(supplier, owner, docker_client):  # noqa: F811
    lent: list[str] = []
    lock = threading.Lock()

    def grade_three() -> None:
        for _ in range(3):
            member = supplier.acquire(Call(), threading.Event())
            with lock:
                lent.append(member.name)
            supplier.dispose(member)

    workers = [threading.Thread(target=grade_three) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert len(lent) == 6 and len(set(lent)) == 6  # never the same sandbox twice
    supplier.close()
    assert sandboxes(docker_client, owner) == []  # the used ones and the spares: all gone
    assert docker_client.volumes.list(
        filters={"label": f"{LABEL_WORKSPACE}={owner.workspace}"}) == []


def test_the_script_goes_to_the_process_started_ahead(supplier, docker_client):  # noqa: F811
    member = supplier.acquire(Call(), threading.Event())
    assert member.receiver is not None
    run = run_script(member.engine, member.name, "echo \"$(id -u) $PWD\"; exit 3", Call(),
                     watchdog=20, limit=4096, receiver=member.receiver)
    assert (run.raw, run.exit_code, run.stopped) == (b"0 /\n", 3, None)
    # the script ran in the exec started with the sandbox, not in a new one
    assert docker_client.api.exec_inspect(member.receiver.exec_id)["ExitCode"] == 3
    supplier.dispose(member)


def test_a_script_too_large_for_an_argument_goes_to_the_receiver_too(supplier):
    member = supplier.acquire(Call(), threading.Event())
    # (a file copied in, the way without one, is refused: the sandbox's root is read-only)
    big = f"x='{'x' * 2 * ARGUMENT_LIMIT}'\necho ${{#x}}\n"
    run = run_script(member.engine, member.name, big, Call(), watchdog=20, limit=4096,
                     receiver=member.receiver)
    assert (run.raw, run.exit_code) == (f"{2 * ARGUMENT_LIMIT}\n".encode(), 0)
    supplier.dispose(member)
