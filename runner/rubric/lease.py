"""A run's lease on the containers of a pool (`docker_pool` or `docker_volume_pool`) for
untrusted work: one user per container at a time, parallel across the pool. Waiting for a free
container honours the step's deadline and cancellation, and gives up when the run begins
stopping (a grading still waiting has not started: it is left for the next apply). A container
whose work ended badly (a timeout, a broken reset) is discarded and replaced in place before it
is lent again.

One lease per pool and run, shared through the run's connections; before lending anything it
checks that the pool is locked down (no network, limits, no capabilities beyond what the
root-side harness needs, no-new-privileges, an init process). Containers are reached only
through the Docker door."""

from __future__ import annotations

import dataclasses
import threading
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from runner.connections import Connections
from runner.errors import Cancelled, NotStarted, StepFailed, StepTimeout
from runner.providers.call import Call
from runner.providers.docker import containers
from runner.providers.docker.engine import ContainerInfo, DockerEngine
from runner.providers.docker.labels import Owner
from runner.providers.docker.open_exec import OpenProcess
from runner.rubric.lockdown import LOCKED_DOWN_FLAGS, harness_problems, lockdown_problems
from runner.vocabulary import UNKNOWN


def wait_slice(call: Call, stopping: threading.Event, poll: float, timed_out: str) -> float:
    """How long a grading waiting for a container may sleep before looking again; raise
    Cancelled, NotStarted (the run is stopping: it has not begun) or StepTimeout(`timed_out`)."""
    if call.cancelled.is_set():
        raise Cancelled(call.what)
    if stopping.is_set():
        raise NotStarted(call.what)
    remaining = call.remaining()
    if remaining is not None and remaining <= 0:
        raise StepTimeout(timed_out)
    return poll if remaining is None else min(poll, remaining)


@dataclass(frozen=True)
class Member:
    """A container lent for one grading, with the engine it runs on (`where`: that engine's
    name, None for the workspace's own) and, for a fresh sandbox, the process its grading
    script is sent to (`providers.docker.script.RECEIVER`)."""

    name: str
    image_id: str
    engine: DockerEngine | None = None
    where: str | None = None
    receiver: OpenProcess | None = None  # a fresh sandbox's script process, started ahead


def pool_members(outputs: Any) -> list[dict[str, Any]]:
    """The members a pool recorded: a list (docker_pool) or a map by solution (volume pool)."""
    members = outputs.get("members") if isinstance(outputs, dict) else None
    if isinstance(members, dict):
        return [m for m in members.values() if isinstance(m, dict)]
    return [m for m in members or [] if isinstance(m, dict)]


def members_by_engine(pool: str, outputs: Any) -> dict[str | None, list[str]]:
    """The names of a pool's recorded members by the engine they run on (None: the workspace's
    own), in the order the pool recorded them; StepFailed when it recorded none."""
    if outputs is UNKNOWN or outputs is None:
        raise StepFailed(f"pool {pool} has no recorded containers; apply it first")
    if not isinstance(outputs, dict) or "members" not in outputs:
        raise StepFailed(f"{pool} is not a docker_pool or docker_volume_pool step: it records no "
                         "members to grade in", retryable=False)
    found: dict[str | None, list[str]] = {}
    for member in pool_members(outputs):
        where = member.get("engine") or None
        found.setdefault(where, []).append(str(member.get("container_name") or ""))
    if not found:
        raise StepFailed(f"pool {pool} has no containers (pool_size is 0)", retryable=False)
    return found


def pool_image_ids(outputs: Any) -> list[str]:
    """The image ids a pool's members run, sorted: what decides a grading, not their ids."""
    return sorted({str(m.get("image_id")) for m in pool_members(outputs) if m.get("image_id")})


class PoolLease:
    """The containers of one pool, lent one at a time; `broken` ones are never lent again."""

    def __init__(self, engine: DockerEngine, pool: str, names: list[str],
                 members: list[Member] | None = None, where: str | None = None):
        self.engine, self.where = engine, where
        self.pool = pool
        self.names = names
        self.members: list[Member] = [dataclasses.replace(m, engine=engine, where=where)
                                      for m in members or []]  # given: already checked
        self._problem: StepFailed | None = None
        self._free: deque[Member] = deque(self.members)
        self._broken: dict[str, str] = {}
        self._cond = threading.Condition()
        self._attempts: Counter[str] = Counter()

    def check(self, require_lockdown: bool) -> None:
        """Once per run: every member is there and fit for untrusted code."""
        with self._cond:
            if not self.members and self._problem is None:
                try:
                    self.members = [
                        Member(n, inspect_member(self.engine, self.pool, n,
                                                 require_lockdown).image_id, self.engine,
                               self.where) for n in self.names]
                    self._free.extend(self.members)
                except StepFailed as exc:
                    self._problem = exc
            if self._problem is not None:
                raise StepFailed(self._problem.message, retryable=self._problem.retryable)

    def attempt(self, address: str) -> int:
        """Counts the tries of one resource in this run (1 on the first)."""
        with self._cond:
            self._attempts[address] += 1
            return self._attempts[address]

    def has_free(self) -> bool:
        with self._cond:
            return bool(self._free)

    def try_acquire(self) -> Member | None:
        """A free container now, or None; StepFailed when none is left that can be lent."""
        with self._cond:
            if self._free:
                return self._free.popleft()
            if len(self._broken) == len(self.members):
                raise StepFailed(f"no usable container is left in pool {self.pool}: "
                                 + "; ".join(f"{n}: {why}" for n, why in self._broken.items())
                                 + "; the next apply recreates them", retryable=False)
            return None

    def lose(self, member: Member, why: str) -> bool:
        """Its engine no longer answers: there is no other to grade on (see `Spanning`)."""
        return False

    def acquire(self, call: Call, stopping: threading.Event) -> Member:
        """A free container; waits for one until the call's deadline or a cancellation, and
        gives up (NotStarted) when the run begins stopping."""
        with self._cond:
            while (member := self.try_acquire()) is None:
                self._cond.wait(timeout=wait_slice(
                    call, stopping, 0.1, f"no container of pool {self.pool} became free before "
                    "the step's timeout"))
            return member

    def release(self, member: Member) -> None:
        with self._cond:
            self._free.append(member)
            self._cond.notify()

    def discard(self, owner: Owner, member: Member, log: Callable[[str], None]) -> None:
        """Replace the container in place (same name, labels, configuration), then lend it
        again; one that cannot be replaced is never lent again in this run."""
        try:
            containers.recreate(self.engine, owner, member.name, log)
        except StepFailed as exc:
            with self._cond:
                self._broken[member.name] = exc.message
                self._cond.notify_all()
            return
        self.release(member)


def lease(connections: Connections, engine: DockerEngine, pool: str, names: list[str],
          require_lockdown: bool, where: str | None = None) -> PoolLease:
    """The run's lease on the members `names` of `pool` (those on `engine`), created on first
    use."""
    found = connections.get("grading-pool", f"{pool}|{where or ''}",
                            lambda: PoolLease(engine, pool, names, where=where))
    found.check(require_lockdown)
    return found


def inspect_member(engine: DockerEngine, pool: str, name: str, require_lockdown: bool,
                   workdir: str | None = None) -> ContainerInfo:
    """A pool member as the engine describes it, refused (naming every problem) when it is
    gone or not fit to grade untrusted code; `workdir` as `lockdown_problems` takes it."""
    container = engine.container(name) if name else None
    if container is None:
        raise StepFailed(f"container {name or '?'} of pool {pool} is gone; the next apply "
                         "recreates it")
    problems = lockdown_problems(container.host_config, container.mounts, workdir) \
        if require_lockdown else []
    problems += harness_problems(container.host_config)
    if problems:
        raise StepFailed(f"pool {pool} cannot grade untrusted code: container {name} "
                         f"{'; '.join(problems)}. The pool's parameters should hold: "
                         + ", ".join(LOCKED_DOWN_FLAGS) + ", and no -v, --device or "
                         "--volumes-from", retryable=False)
    return container
