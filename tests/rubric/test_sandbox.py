"""Fresh sandboxes on the real engine: each is lent once, every used one and every unused spare
is removed by the end of the run (removal runs in the background), and a spare's grading
script goes to the process started in it ahead, not to a new exec: the sandbox's own main
process when the pool member only keeps itself alive (`sleep infinity`), else an exec started
with the spare."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from docker_fixtures import BASE_IMAGE, ENGINE, docker_client  # noqa: F401

from runner.errors import NotStarted, StepFailed
from runner.providers.call import Call
from runner.providers.docker.engine import ContainerInfo, DockerEngine
from runner.providers.docker.labels import LABEL_SANDBOX, LABEL_WORKSPACE, Owner
from runner.providers.docker.script import ARGUMENT_LIMIT, run_script
from runner.rubric.grading import was_stopped
from runner.rubric.lease import Member
from runner.rubric.lockdown import HARNESS_CAPS
from runner.rubric.sandbox import SandboxSupplier

pytestmark = pytest.mark.docker
POOL = "pipeline.t.pool"
# what keeps a sandbox apart from the host and from other gradings: none of it may differ
# between the pool member and a sandbox whose main process is the grading script
SECURITY_KEYS = ("NetworkMode", "Memory", "PidsLimit", "NanoCpus", "CapDrop", "CapAdd",
                 "SecurityOpt", "Init", "Privileged", "PidMode", "IpcMode", "UsernsMode",
                 "Devices", "Binds")


@pytest.fixture
def owner(tmp_path: Path, docker_client: Any) -> Iterator[Owner]:  # noqa: F811
    found = Owner(str(tmp_path), POOL, f"r-{uuid.uuid4().hex[:8]}")
    yield found
    for container in docker_client.containers.list(
            all=True, filters={"label": f"{LABEL_WORKSPACE}={found.workspace}"}):
        container.remove(force=True, v=True)


def pool_member(client: Any, owner: Owner, argv: list[str]) -> ContainerInfo:
    """A locked-down pool member running `argv` (a pool's default: `sleep infinity`)."""
    name = f"tf-test-pool-{uuid.uuid4().hex[:8]}"
    client.containers.run(
        BASE_IMAGE, argv, name=name, detach=True, init=True, network_mode="none",
        mem_limit="256m", pids_limit=128, nano_cpus=10**9, cap_drop=["ALL"],
        cap_add=list(HARNESS_CAPS), security_opt=["no-new-privileges"], labels=owner.labels())
    found = DockerEngine(ENGINE).container(name)
    assert found is not None
    return found


Make = Callable[..., SandboxSupplier]


@pytest.fixture
def make(owner: Owner, docker_client: Any) -> Iterator[Make]:  # noqa: F811
    made: list[SandboxSupplier] = []

    def build(argv: tuple[str, ...] = ("sleep", "infinity"), size: int = 2) -> SandboxSupplier:
        template = pool_member(docker_client, owner, list(argv))
        supplier = SandboxSupplier(DockerEngine(ENGINE), POOL, owner, [template] * size, "/app")
        made.append(supplier)
        return supplier

    yield build
    for supplier in made:
        supplier.close()


@pytest.fixture
def supplier(make: Make) -> SandboxSupplier:
    return make()


def sandboxes(client: Any, owner: Owner) -> list[str]:
    return [c.name for c in client.containers.list(all=True, filters={"label": [
        f"{LABEL_WORKSPACE}={owner.workspace}", f"{LABEL_SANDBOX}={POOL}"]})]


def volumes(client: Any, owner: Owner) -> list[str]:
    return [v.name for v in client.volumes.list(
        filters={"label": f"{LABEL_WORKSPACE}={owner.workspace}"})]


def receiver_host_pid(client: Any, member: Member) -> int:
    """The host pid of the process a sandbox's script is sent to: the only child of its init,
    or its exec's (which the engine knows a moment after the exec started)."""
    assert member.receiver is not None
    for _ in range(100):
        if member.receiver.is_main:
            init = client.api.inspect_container(member.name)["State"]["Pid"]
            children = Path(f"/proc/{init}/task/{init}/children").read_text().split()
            pid = int(children[0]) if len(children) == 1 else 0
        else:
            pid = int(client.api.exec_inspect(member.receiver.exec_id)["Pid"] or 0)
        if pid:
            return pid
        time.sleep(0.05)
    raise AssertionError(f"no receiver process found in {member.name}")


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
    assert volumes(docker_client, owner) == []


def test_a_fresh_sandboxs_whole_life_on_a_local_engine_needs_no_sdk(owner, docker_client):  # noqa: F811
    """Each SDK request costs ~5 ms of Python per grading on cores the gradings share: a
    sandbox's start, its grading and its removal go to the engine's socket directly."""
    if not ENGINE.startswith("unix://"):
        pytest.skip("the SDK-free path is the local engine's")
    template = pool_member(docker_client, owner, ["sleep", "infinity"])
    code = f"""
import sys, threading
from runner.providers.call import Call
from runner.providers.docker.engine import DockerEngine
from runner.providers.docker.labels import Owner
from runner.providers.docker.script import run_script
from runner.rubric.sandbox import SandboxSupplier
engine = DockerEngine({ENGINE!r})
owner = Owner({owner.workspace!r}, {owner.address!r}, {owner.run!r})
supplier = SandboxSupplier(engine, {POOL!r}, owner, [engine.container({template.name!r})] * 2,
                           "/app")
member = supplier.acquire(Call(), threading.Event())
run = run_script(engine, member.name, "echo graded", Call(), watchdog=30, limit=4096,
                 receiver=member.receiver)
supplier.dispose(member)
supplier.close()
print(run.raw.decode().strip(), run.exit_code, sorted(
    m for m in ("docker", "requests", "urllib3", "paramiko") if m in sys.modules))
"""
    repo = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(repo)}, cwd=repo, timeout=120)
    assert out.stdout.strip() == "graded 0 []", out.stderr[-3000:]
    assert sandboxes(docker_client, owner) == [] and volumes(docker_client, owner) == []


def test_the_script_is_the_main_process_of_a_sandbox_of_a_default_pool_member(
        supplier, docker_client):  # noqa: F811
    member = supplier.acquire(Call(), threading.Event())
    assert member.receiver is not None and member.receiver.is_main
    script = 'echo "$(id -u) $PWD $(cat /proc/1/comm) $(cat /proc/$$/status | grep -c NoNewPrivs:.1)"; exit 3'
    run = run_script(member.engine, member.name, script, Call(), watchdog=20, limit=4096,
                     receiver=member.receiver)
    # root in /, under the init process, with no-new-privileges; no exec was started at all
    assert (run.raw, run.exit_code, run.stopped) == (b"0 / docker-init 1\n", 3, None)
    found = docker_client.api.inspect_container(member.name)
    assert found["ExecIDs"] is None
    assert (found["State"]["Status"], found["State"]["ExitCode"]) == ("exited", 3)
    supplier.dispose(member)


def test_a_sandbox_keeps_every_security_setting_of_its_pool_member(supplier, docker_client):  # noqa: F811
    member = supplier.acquire(Call(), threading.Event())
    sandbox = docker_client.api.inspect_container(member.name)["HostConfig"]
    template = docker_client.api.inspect_container(supplier.templates[0].name)["HostConfig"]
    assert {k: sandbox.get(k) for k in SECURITY_KEYS} == \
        {k: template.get(k) for k in SECURITY_KEYS}
    assert sandbox["ReadonlyRootfs"] is True and not template["ReadonlyRootfs"]
    assert sandbox["LogConfig"]["Type"] == "none"  # its output is read, not logged to disk
    supplier.dispose(member)


def test_a_pool_member_with_its_own_command_gets_the_script_through_an_exec(make, docker_client):  # noqa: F811
    supplier = make(argv=("sleep", "1000000"))  # a command of its own: it must keep running
    member = supplier.acquire(Call(), threading.Event())
    assert member.receiver is not None and not member.receiver.is_main
    run = run_script(member.engine, member.name, "echo \"$(id -u) $PWD\"; exit 3", Call(),
                     watchdog=20, limit=4096, receiver=member.receiver)
    assert (run.raw, run.exit_code, run.stopped) == (b"0 /\n", 3, None)
    # the script ran in the exec started with the sandbox, not in a new one
    assert docker_client.api.exec_inspect(member.receiver.exec_id)["ExitCode"] == 3
    assert docker_client.api.inspect_container(member.name)["State"]["Running"] is True
    supplier.dispose(member)


@pytest.mark.parametrize("argv", [("sleep", "infinity"), ("sleep", "1000000")])
def test_a_script_too_large_for_an_argument_goes_to_the_receiver_too(make, argv):
    supplier = make(argv=argv)
    member = supplier.acquire(Call(), threading.Event())
    # (a file copied in, the way without one, is refused: the sandbox's root is read-only)
    big = f"x='{'x' * 2 * ARGUMENT_LIMIT}'\necho ${{#x}}\n"
    run = run_script(member.engine, member.name, big, Call(), watchdog=20, limit=4096,
                     receiver=member.receiver)
    assert (run.raw, run.exit_code) == (f"{2 * ARGUMENT_LIMIT}\n".encode(), 0)
    supplier.dispose(member)


@pytest.mark.parametrize("argv", [("sleep", "infinity"), ("sleep", "1000000")])
def test_a_receiver_that_died_before_its_script_arrived_runs_nothing_and_leaves_nothing(
        make, owner, docker_client, argv):  # noqa: F811
    supplier = make(argv=argv)
    member = supplier.acquire(Call(), threading.Event())
    assert member.receiver is not None
    receiver_pid = receiver_host_pid(docker_client, member)
    assert receiver_pid > 1  # never 0: that would signal this test's own process group
    os.kill(receiver_pid, signal.SIGKILL)
    time.sleep(0.3)
    try:
        run = run_script(member.engine, member.name, "echo ran; exit 0", Call(), watchdog=20,
                         limit=4096, receiver=member.receiver)
    except StepFailed as exc:  # the engine already closed the stream it would be sent on
        assert "cannot send the script" in exc.message
    else:
        assert b"ran" not in run.raw and run.exit_code != 0
    supplier.dispose(member)
    supplier.close()
    assert sandboxes(docker_client, owner) == [] and volumes(docker_client, owner) == []


@pytest.mark.parametrize("argv", [("sleep", "infinity"), ("sleep", "1000000")])
def test_a_grading_cancelled_mid_run_stops_at_once_and_leaves_nothing(
        make, owner, docker_client, argv):  # noqa: F811
    supplier = make(argv=argv)
    member = supplier.acquire(Call(), threading.Event())
    call = Call()
    threading.Timer(0.5, call.cancelled.set).start()
    started = time.monotonic()
    run = run_script(member.engine, member.name, "echo started; sleep 60", call, watchdog=90,
                     limit=4096, receiver=member.receiver)
    assert run.stopped == "cancelled" and time.monotonic() - started < 5
    assert run.raw.startswith(b"started")
    supplier.dispose(member)
    supplier.close()
    assert sandboxes(docker_client, owner) == [] and volumes(docker_client, owner) == []


def test_a_sandbox_stopped_under_its_script_is_told_from_one_that_ended_by_itself(supplier):
    stopped = supplier.acquire(Call(), threading.Event())
    ended = supplier.acquire(Call(), threading.Event())
    for member, script in ((stopped, "echo x; kill -TERM 1; sleep 30"), (ended, "echo x")):
        assert member.receiver is not None and member.receiver.is_main
        run = run_script(member.engine, member.name, script, Call(), watchdog=60, limit=4096,
                         receiver=member.receiver)
        assert run.stopped is None
        assert was_stopped(member.engine, member) is (member is stopped)
        supplier.dispose(member)


def test_an_exec_sandbox_stopped_under_its_script_is_told_too(make, docker_client):  # noqa: F811
    supplier = make(argv=("sleep", "1000000"))
    member = supplier.acquire(Call(), threading.Event())
    assert member.engine is not None
    docker_client.api.kill(member.name)
    assert was_stopped(member.engine, member) is True
    alive = supplier.acquire(Call(), threading.Event())
    assert was_stopped(member.engine, Member(alive.name, alive.image_id, alive.engine)) is False
    supplier.dispose(member)
    supplier.dispose(alive)


class Run:
    """What an apply tells a supplier: how many gradings of the run have not begun."""

    def __init__(self, gradings: int):
        self.not_begun = gradings

    def count(self, parent: str) -> int:
        assert parent == "pipeline.t.grade"
        return self.not_begun

    def begin(self) -> None:
        self.not_begun -= 1


def created(client: Any, owner: Owner, since: float) -> list[str]:
    """The sandboxes of this test's pool the engine created since `since`."""
    events = client.events(since=int(since), until=int(time.time()) + 1, decode=True, filters={
        "type": "container", "event": "create",
        "label": [f"{LABEL_WORKSPACE}={owner.workspace}", f"{LABEL_SANDBOX}={POOL}"]})
    return [e["Actor"]["Attributes"]["name"] for e in events]


def settled(supplier: SandboxSupplier) -> None:
    """Wait until no sandbox is being started (its start is in the background)."""
    for _ in range(200):
        if not supplier._starting:
            return
        time.sleep(0.05)
    raise AssertionError("sandboxes still starting after 10 s")


def test_a_run_that_says_how_many_gradings_are_left_gets_no_spare_nobody_takes(
        owner, docker_client):  # noqa: F811
    since = time.time() - 1
    template = pool_member(docker_client, owner, ["sleep", "infinity"])
    run = Run(5)
    supplier = SandboxSupplier(DockerEngine(ENGINE), POOL, owner, [template] * 2, "/app",
                               expected=("pipeline.t.grade", run.count))
    lent = []
    try:
        for _ in range(5):
            run.begin()
            member = supplier.acquire(Call(), threading.Event())
            lent.append(member.name)
            if run.not_begun:  # the next one's sandbox is started ahead, while this one grades
                for _ in range(200):
                    if supplier.has_free():
                        break
                    time.sleep(0.05)
                assert supplier.has_free()
            supplier.dispose(member)
        settled(supplier)
        assert not supplier.has_free()
    finally:
        supplier.close()
    assert sorted(created(docker_client, owner, since)) == sorted(lent)  # five, no more
    assert sandboxes(docker_client, owner) == [] and volumes(docker_client, owner) == []


def test_a_run_that_begins_stopping_starts_no_more_spares_and_leaves_nothing(
        owner, docker_client):  # noqa: F811
    since = time.time() - 1
    template = pool_member(docker_client, owner, ["sleep", "infinity"])
    run, stopping = Run(10), threading.Event()
    supplier = SandboxSupplier(DockerEngine(ENGINE), POOL, owner, [template] * 2, "/app",
                               expected=("pipeline.t.grade", run.count))
    try:
        run.begin()
        first = supplier.acquire(Call(), stopping)
        run.begin()
        second = supplier.acquire(Call(), stopping)
        settled(supplier)
        before = len(created(docker_client, owner, since))
        assert before == 4  # two lent, two spares ahead for the eight not begun
        stopping.set()  # the first interrupt: nothing new begins, running steps finish
        for member in (first, second):
            supplier.dispose(member)
        # steps already running take the spares that are ready; no other is started
        for member in (supplier.acquire(Call(), stopping), supplier.acquire(Call(), stopping)):
            supplier.dispose(member)
        with pytest.raises(NotStarted):  # none left: a grading still waiting gives up
            supplier.acquire(Call(), stopping)
        settled(supplier)
        assert len(created(docker_client, owner, since)) == before
    finally:
        supplier.close()
    assert sandboxes(docker_client, owner) == [] and volumes(docker_client, owner) == []
