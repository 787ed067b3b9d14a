"""The pool lease without an engine: one grading per container, waiting that honours the
deadline and cancellation, and the lockdown checks read from a container's HostConfig."""

from __future__ import annotations

import threading
import time

import pytest

from runner.errors import Cancelled, NotStarted, StepTimeout
from runner.providers.call import Call
from runner.providers.docker.engine import DockerEngine
from runner.rubric.lease import Member, PoolLease, pool_image_ids
from runner.rubric.lockdown import harness_problems, lockdown_problems

LOCKED = {"NetworkMode": "none", "Memory": 536870912, "PidsLimit": 256, "NanoCpus": 10**9,
          "CapDrop": ["ALL"], "CapAdd": ["CAP_CHOWN", "DAC_OVERRIDE", "FOWNER", "KILL", "SETGID",
                                         "SETUID"],
          "SecurityOpt": ["no-new-privileges"], "Init": True, "Privileged": False}


STOPPING = threading.Event()


def call(deadline: float | None = None) -> Call:
    return Call(deadline=deadline, what='pipeline.p.grade["c","s"]')


def lease(*names: str) -> PoolLease:
    # members given: already checked, so the engine is never asked
    return PoolLease(DockerEngine("unix:///nonexistent"), "pipeline.p.pool", list(names),
                     [Member(n, "sha256:img") for n in names])


def test_a_locked_down_container_has_no_problems():
    assert lockdown_problems(LOCKED) == [] and harness_problems(LOCKED) == []


def test_docker_defaults_are_named_flag_by_flag():
    assert lockdown_problems({"NetworkMode": "default", "Memory": 0, "PidsLimit": None,
                              "CapAdd": ["SYS_ADMIN"], "Privileged": True}) == [
        "has a network (--network none)", "has no --memory limit", "has no --pids-limit limit",
        "has no --cpus limit", "keeps Docker's default capabilities (--cap-drop ALL)",
        "adds capabilities grading does not need (SYS_ADMIN)",
        "lacks --security-opt no-new-privileges", "has no init process (--init)",
        "is privileged"]


def test_dropping_every_capability_leaves_the_grading_script_unable_to_switch_users():
    assert harness_problems({**LOCKED, "CapAdd": ["CHOWN"]}) == [
        "lacks capabilities the grading script needs as root (--cap-add DAC_OVERRIDE, "
        "--cap-add FOWNER, --cap-add KILL, --cap-add SETGID, --cap-add SETUID)"]
    assert harness_problems({"CapDrop": None, "CapAdd": None}) == []  # Docker's default set


def test_every_way_out_of_the_container_is_named():
    host = {**LOCKED, "Binds": ["/etc:/host-etc:ro", "cache:/cache"],
            "Devices": [{"PathOnHost": "/dev/kvm", "PathInContainer": "/dev/kvm"}],
            "VolumesFrom": ["other"], "PidMode": "host", "IpcMode": "container:db",
            "SecurityOpt": ["no-new-privileges", "seccomp=unconfined"],
            "Sysctls": {"kernel.msgmax": "1"}, "OomKillDisable": True}
    mounts = [{"Type": "bind", "Source": "/srv/data", "Destination": "/data"}]
    assert lockdown_problems(host, mounts) == [
        "turns confinement off (--security-opt seccomp=unconfined)",
        "mounts host paths (-v /etc:/host-etc, /srv/data:/data)",
        "has devices (--device /dev/kvm)", "mounts other containers' volumes (--volumes-from "
        "other)", "shares the host's PID namespace (--pid host)",
        "shares db's IPC namespace (--ipc container:db)",
        "sets kernel parameters (--sysctl kernel.msgmax)",
        "disables the OOM killer (--oom-kill-disable)"]


def test_fresh_sandboxes_refuse_volumes_they_would_share_but_not_the_one_they_replace():
    host = {**LOCKED, "Binds": ["app_golden:/app", "cache:/cache"]}
    assert lockdown_problems(host) == []  # reusing containers: volumes are the pool's business
    assert lockdown_problems(host, workdir="/app") == [
        "mounts volumes every fresh sandbox would share (-v cache:/cache): gradings could see "
        "each other's files"]


def test_no_new_privileges_written_as_false_does_not_count():
    assert lockdown_problems({**LOCKED, "SecurityOpt": ["no-new-privileges:false"]}) == [
        "lacks --security-opt no-new-privileges"]


def test_image_ids_of_a_list_pool_and_a_volume_pool():
    assert pool_image_ids({"members": [{"image_id": "b"}, {"image_id": "a"},
                                       {"image_id": "a"}]}) == ["a", "b"]
    assert pool_image_ids({"members": {"golden": {"image_id": "v"}}}) == ["v"]
    assert pool_image_ids(None) == []


def test_one_user_per_container_and_a_waiter_gets_the_first_one_released():
    pool = lease("c0", "c1")
    ctx = call()
    first, second = pool.acquire(ctx, STOPPING), pool.acquire(ctx, STOPPING)
    assert {first.name, second.name} == {"c0", "c1"} and not pool.has_free()
    got: list[Member] = []
    waiter = threading.Thread(target=lambda: got.append(pool.acquire(ctx, STOPPING)))
    waiter.start()
    waiter.join(0.3)
    assert waiter.is_alive() and got == []  # still waiting: nothing is free
    pool.release(second)
    waiter.join(5)
    assert got == [second]


def test_waiting_ends_at_the_steps_deadline():
    pool = lease("c0")
    pool.acquire(call(), STOPPING)
    with pytest.raises(StepTimeout) as info:
        pool.acquire(call(deadline=time.monotonic() + 0.2), STOPPING)
    assert info.value.message == ("no container of pool pipeline.p.pool became free before the "
                                  "step's timeout")


def test_waiting_ends_on_cancellation():
    pool = lease("c0")
    ctx = call()
    pool.acquire(ctx, STOPPING)
    threading.Timer(0.2, ctx.cancelled.set).start()
    with pytest.raises(Cancelled):
        pool.acquire(ctx, STOPPING)


def test_waiting_ends_when_the_run_begins_stopping_but_a_free_container_is_still_lent():
    pool = lease("c0", "c1")
    stopping = threading.Event()
    pool.acquire(call(), stopping)
    stopping.set()
    assert pool.acquire(call(), stopping).name == "c1"  # free at once: the grading goes on
    with pytest.raises(NotStarted):
        pool.acquire(call(), stopping)


def test_attempts_are_counted_per_resource():
    pool = lease("c0")
    assert [pool.attempt("a"), pool.attempt("b"), pool.attempt("a")] == [1, 1, 2]
