"""Fresh sandboxes for grading: each grading gets a container started for it alone from the
configuration of a pool member (its template: image, command, user, limits, capabilities),
and the container is killed and removed when the grading ends, so nothing one grading did
is seen by another. Warm spares, as many as the pool has members but no more than the run's
gradings will still take (`demand.py`), are started ahead of need in the background, so
starting a sandbox overlaps with running the gradings before it; at most as many sandboxes
as the pool has members grade at once. A spare also has its grading script's process started
ahead (`RECEIVER`, waiting on its stdin), since starting a process in a container costs about
as much again as the script's own work: the sandbox's own main process when its template only
keeps itself alive (no exec at all), else an exec; a used sandbox is removed in the background.
A sandbox is lent once: it leaves the spares when it is lent and is removed when it is given
back.

A sandbox's root filesystem is read-only. The repository (the work dir) is an anonymous
volume Docker fills from the image when it creates the container, and /tmp, /var/tmp, /run
and /run/lock are tmpfs; both go with the container. Sandboxes carry this workspace's labels
and `taskform.sandbox`, so a crash's leftovers are removed by the next run (and `taskform
gc`)."""

from __future__ import annotations

import secrets
import threading
from collections import Counter, deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from runner.connections import Connections
from runner.errors import StepFailed
from runner.providers.call import Call
from runner.providers.docker.containers import KEEP_ALIVE
from runner.providers.docker.engine import ContainerInfo, DockerEngine
from runner.providers.docker.labels import LABEL_RUN, LABEL_SANDBOX, Owner
from runner.providers.docker.open_exec import OpenProcess
from runner.providers.docker.script import RECEIVER
from runner.rubric.demand import Demand, NotBegun
from runner.rubric.lease import Member, inspect_member, wait_slice

TMPFS = {"/tmp": "rw,exec,nosuid,nodev,mode=1777", "/var/tmp": "rw,nosuid,nodev,mode=1777",
         "/run": "rw,nosuid,nodev,mode=755", "/run/lock": "rw,nosuid,nodev,mode=1777"}
# a sandbox whose main process is the grading script: its output is read from the attached
# stream, and is not written to the host's disk again by a log driver (an exec's never is)
QUIET = {"LogConfig": {"Type": "none", "Config": {}}}
START_FAILURES = 3  # sandboxes that failed to start in a row before waiters are told why
Log = Callable[[str], None]


def sandbox_host_config(template: ContainerInfo, workdir: str,
                        labels: dict[str, str]) -> dict[str, Any]:
    """What a sandbox changes of its template's host config: a read-only root, tmpfs for the
    temp folders (the template's own kept), and a fresh anonymous volume at the work dir in
    place of whatever the template mounted there."""
    host = template.host_config
    mounts = [m for m in host.get("Mounts") or [] if m.get("Type") == "tmpfs"
              and m.get("Target") != workdir]
    mounts.append({"Type": "volume", "Target": workdir, "VolumeOptions": {"Labels": labels}})
    return {"ReadonlyRootfs": True, "Tmpfs": {**TMPFS, **(host.get("Tmpfs") or {})},
            "Mounts": mounts, "Binds": None, "VolumesFrom": None, "AutoRemove": False,
            "RestartPolicy": {"Name": "no"}}


class SandboxSupplier:
    """Fresh sandboxes of one pool, for one run: `acquire` one, grade in it, `dispose` it."""

    def __init__(self, engine: DockerEngine, pool: str, owner: Owner,
                 templates: list[ContainerInfo], workdir: str, log: Log = lambda line: None,
                 where: str | None = None, expected: tuple[str, NotBegun] | None = None):
        self.engine, self.pool, self.owner, self.workdir = engine, pool, owner, workdir
        self.where = where  # the engine's name (None: the workspace's own)
        self.templates, self.log = templates, log
        self.size = len(templates)
        self._cond = threading.Condition()
        self._ready: deque[tuple[ContainerInfo, OpenProcess | None]] = deque()
        self._starting = self._in_use = self._failures = self._next = 0
        self._problem: StepFailed | None = None
        self._closed = False
        self._attempts: Counter[str] = Counter()
        self._attach = True  # until the engine turns out not to carry an attached stdin
        self._demand = Demand()
        if expected is not None:
            self._demand.expect(*expected)
        self._starter = ThreadPoolExecutor(self.size, thread_name_prefix="sandbox-start")
        self._remover = ThreadPoolExecutor(2, thread_name_prefix="sandbox-remove")
        self._remover.submit(self._sweep_leftovers)
        with self._cond:
            self._top_up(0)

    # -- lending --------------------------------------------------------------------------

    def acquire(self, call: Call, stopping: threading.Event) -> Member:
        """A started pristine sandbox; waits until the call's deadline or a cancellation, and
        gives up (NotStarted) when the run begins stopping."""
        with self._cond:
            self._demand.stopping = stopping
            self._demand.waiting += 1
            try:
                while (member := self._lend(waiting=True)) is None:
                    self._cond.wait(timeout=wait_slice(
                        call, stopping, 0.1, f"no fresh sandbox of pool {self.pool} was ready "
                        "before the step's timeout"))
                return member
            finally:
                self._demand.waiting -= 1

    def try_acquire(self) -> Member | None:
        """A started pristine sandbox now, or None; StepFailed once starting them keeps
        failing."""
        with self._cond:
            return self._lend(waiting=False)

    def expect(self, parent: str, not_begun: NotBegun) -> None:
        """The children of `parent` will grade here too (see `Demand.expect`)."""
        with self._cond:
            self._demand.expect(parent, not_begun)
            self._top_up(self._demand.waiting)

    def _lend(self, waiting: bool) -> Member | None:
        """A ready sandbox, and spares topped up for the gradings still to come; `waiting`:
        the caller is among the gradings waiting in `acquire` (else it asks once, polling)."""
        others = self._demand.waiting - (1 if waiting else 0)
        if self._ready and self._in_use < self.size:
            sandbox, receiver = self._ready.popleft()
            self._in_use += 1
            self._top_up(others)
            return Member(sandbox.name, sandbox.image_id, self.engine, self.where, receiver)
        if self._problem is not None and not self._starting:
            raise StepFailed(self._problem.message, retryable=self._problem.retryable)
        self._top_up(others + 1)
        return None

    def lose(self, member: Member, why: str) -> bool:
        """Its engine no longer answers: there is no other to grade on (see `Spanning`)."""
        return False

    def attempt(self, address: str) -> int:
        """Counts the tries of one resource in this run (1 on the first)."""
        with self._cond:
            self._attempts[address] += 1
            return self._attempts[address]

    def has_free(self) -> bool:
        with self._cond:
            return bool(self._ready) and self._in_use < self.size

    def dispose(self, member: Member) -> None:
        """Kill and remove a sandbox (with its volume), in the background; start another."""
        if member.receiver is not None:
            member.receiver.close()
        with self._cond:
            self._in_use -= 1
            self._top_up(self._demand.waiting)
            self._cond.notify_all()
        self._remover.submit(self._remove, member.name)

    release = dispose  # a sandbox serves one grading, however it ended

    def discard(self, owner: Owner, member: Member, log: Log) -> None:
        self.dispose(member)

    def close(self) -> None:
        """At the end of the run: no more spares; every sandbox removed."""
        with self._cond:
            self._closed = True
        self._starter.shutdown(wait=True)
        with self._cond:
            spares, self._ready = list(self._ready), deque()
        for _, receiver in spares:
            if receiver is not None:
                receiver.close()
        # the run waits for these: remove the unused spares all at once, not two at a time
        with ThreadPoolExecutor(max(1, len(spares)), thread_name_prefix="sandbox-remove") as end:
            list(end.map(self._remove, [sandbox.id for sandbox, _ in spares]))
        self._remover.shutdown(wait=True)

    # -- starting and removing ------------------------------------------------------------

    def _top_up(self, asking: int) -> None:
        """Start sandboxes until as many are ready or starting as the gradings to come will
        take, `asking` of them wanting one now (the lock is held)."""
        if self._closed or self._failures >= START_FAILURES:
            return
        while len(self._ready) + self._starting < self._demand.spares(self.size, asking):
            self._starting += 1
            template = self.templates[self._next % self.size]
            self._next += 1
            self._starter.submit(self._start, template)

    def _start(self, template: ContainerInfo) -> None:
        labels = {**self.owner.labels(), LABEL_SANDBOX: self.pool}
        name = f"{template.name}-sbx-{secrets.token_hex(4)}"
        try:
            sandbox, receiver = self._clone(template, name, labels)
            if not sandbox.running:
                if receiver is not None:
                    receiver.close()
                self._remove(sandbox.id)
                raise StepFailed(f"sandbox {name} is {sandbox.status} right after its start")
        except StepFailed as exc:
            with self._cond:
                self._starting -= 1
                self._failures += 1
                self._problem = StepFailed(f"cannot start a fresh sandbox from pool "
                                           f"{self.pool}: {exc.message}", retryable=True)
                self._top_up(self._demand.waiting)
                self._cond.notify_all()
            return
        with self._cond:
            self._starting -= 1
            self._failures = 0
            if self._closed:
                if receiver is not None:
                    receiver.close()
                self._remover.submit(self._remove, sandbox.id)
            else:
                self._ready.append((sandbox, receiver))
            self._cond.notify_all()

    def _clone(self, template: ContainerInfo, name: str,
               labels: dict[str, str]) -> tuple[ContainerInfo, OpenProcess | None]:
        """A started sandbox and the process its grading script will be sent to. A template
        whose only process keeps it alive (a pool member's default) needs none: the receiver
        is the sandbox's main process, and no exec is started at all. Else the receiver is
        an exec started now, or None (exec'd when the script is known) where the engine
        cannot hold one open."""
        host = sandbox_host_config(template, self.workdir, labels)
        if self._attach and only_keeps_alive(template):
            attached = self.engine.clone_attached(template, RECEIVER, name=name, labels=labels,
                                                  host_overrides={**host, **QUIET})
            if attached is not None:
                return attached
            self._attach = False  # this engine cannot: the way with an exec from now on
        sandbox = self.engine.clone_container(template, name=name, labels=labels,
                                              host_overrides=host)
        try:
            return sandbox, self.engine.exec_open(sandbox.id, RECEIVER, user="0", workdir="/")
        except StepFailed as exc:
            self.log(f"sandbox {sandbox.name}: grading script exec'd when known ({exc.message})")
            return sandbox, None

    def _remove(self, container_id: str) -> None:
        try:
            self.engine.remove_container(container_id, volumes=True)
        except StepFailed as exc:  # gc removes what is left: it carries our labels
            self.log(f"could not remove sandbox {container_id[:12]}: {exc.message}")

    def _sweep_leftovers(self) -> None:
        """Sandboxes of this pool an earlier run left (a crash, a SIGKILL)."""
        filters = {"label": [f"{k}={v}" for k, v in self.owner.labels().items()
                             if k != LABEL_RUN] + [f"{LABEL_SANDBOX}={self.pool}"]}
        for container_id, labels in self.engine.container_labels(filters).items():
            if labels.get(LABEL_RUN) != self.owner.run:
                self._remove(container_id)


def only_keeps_alive(template: ContainerInfo) -> bool:
    """Whether a template's process does nothing but keep it running (`sleep infinity`, how
    pools start members without a command) under an init process: a sandbox cloned from it
    can have the grading script as its main process instead, the init kept."""
    config = template.config
    argv = [*(config.get("Entrypoint") or []), *(config.get("Cmd") or [])]
    return argv == [*KEEP_ALIVE[0], *KEEP_ALIVE[1]] and bool(template.host_config.get("Init")) \
        and not config.get("Tty")


def supplier(connections: Connections, engine: DockerEngine, pool: str, names: list[str],
             owner: Owner, workdir: str, require_lockdown: bool,
             log: Log = lambda line: None, where: str | None = None,
             expected: tuple[str, NotBegun] | None = None) -> SandboxSupplier:
    """The run's supplier of fresh sandboxes of `pool` for `workdir`, cloned from its members
    `names` (those on `engine`), created on first use after every one passed the lockdown
    check. `expected`: the parent whose children grade there, and how the run counts those
    not begun (`Demand.expect`)."""
    def make() -> SandboxSupplier:
        templates = [inspect_member(engine, pool, n, require_lockdown, workdir) for n in names]
        return SandboxSupplier(engine, pool, owner, templates, workdir, log, where, expected)

    found = connections.get("grading-sandboxes", f"{pool}|{workdir}|{where or ''}", make)
    if expected is not None:
        found.expect(*expected)
    return found
