"""Deploy and reset one deployment on its droplet: send the changed files, run, check health;
reset with its script, remove its labelled containers, remove its folder. Never anything else
on the droplet."""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from runner.deploy.endpoint import Droplet
from runner.deploy.layout import LABEL, Layout, script_env
from runner.deploy.settings import DeploySpec, seconds
from runner.deploy.sync import LocalFile, changed, push, remote_digests, remove_stale
from runner.errors import Cancelled, StepFailed
from runner.providers.call import Call
from runner.providers.ssh import CommandResult, Host

TAIL_LINES = 20


@dataclass(frozen=True)
class Target:
    """Where one deployment lives: its droplet, the open host, its slot and its folder name."""

    droplet: Droplet
    host: Host
    name: str
    slot: int

    @property
    def layout(self) -> Layout:
        return Layout(self.droplet.remote_dir)

    @property
    def directory(self) -> str:
        return self.layout.directory(self.name)

    def env(self, spec: DeploySpec) -> dict[str, str]:
        return script_env(self.name, self.directory, self.droplet.name, self.slot, spec.env)


@dataclass
class Deployed:
    created: bool = False
    uploaded: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    ran: bool = False
    run_output: str = ""
    health_output: str = ""
    health_tries: int = 0


def deploy(target: Target, spec: DeploySpec, local: Mapping[str, LocalFile],
           previous: list[str], call: Call, *, force_run: bool) -> Deployed:
    """Send what differs and run `run` when anything was sent or removed (or `force_run`, or
    the folder is new), then wait for health. Before `run` runs again in an existing folder,
    what it started is stopped: the reset script there, and the labelled containers."""
    done = Deployed()
    with target.host.files() as files:
        done.created = not files.exists(target.directory)
        files.mkdirs(target.directory)
    remote = {} if done.created else remote_digests(target.host, target.directory,
                                                    list(local), call)
    done.uploaded = changed(local, remote)
    stale = sorted(set(previous) - set(local))
    rerun = force_run or done.created or bool(done.uploaded) or bool(stale)
    if rerun and not done.created:
        stop(target, spec, call)
    with target.host.files() as files:
        push(files, target.directory, local, done.uploaded)
        done.removed = remove_stale(files, target.directory, previous, local)
    call.log(f"{target.droplet.name}: {len(done.uploaded)} file(s) sent, {len(done.removed)} "
             f"removed, {len(local) - len(done.uploaded)} unchanged")
    if rerun:
        result = run_script(target, spec.run, spec, call)
        done.ran, done.run_output = True, result.tail(TAIL_LINES)
        if not result.ok:
            raise StepFailed(f"{spec.run} {_ended(result, seconds(spec.timeout))} on droplet "
                             f"{target.droplet.name} ({target.directory})",
                             output=result.tail(200), exit_code=result.exit_code,
                             command=f"./{spec.run}")
    if spec.health is not None:
        done.health_tries, done.health_output = wait_healthy(target, spec, call)
    return done


def run_script(target: Target, script: str, spec: DeploySpec, call: Call) -> CommandResult:
    command = f"cd {shlex.quote(target.directory)} && exec ./{shlex.quote(script)}"
    return target.host.run(command, call, timeout=seconds(spec.timeout), env=target.env(spec))


def check_health(target: Target, spec: DeploySpec, call: Call) -> CommandResult:
    assert spec.health is not None
    command = f"cd {shlex.quote(target.directory)} && {spec.health.command}"
    quiet = Call(cancelled=call.cancelled, deadline=call.deadline, what=call.what)
    return target.host.run(command, quiet, timeout=seconds(spec.health.timeout),
                           env=target.env(spec))


def wait_healthy(target: Target, spec: DeploySpec, call: Call) -> tuple[int, str]:
    """Try the health command up to 1 + retries times, `interval` apart."""
    assert spec.health is not None
    health = spec.health
    tries = health.retries + 1
    for attempt in range(1, tries + 1):
        result = check_health(target, spec, call)
        if result.ok:
            call.log(f"healthy after {attempt} tr{'y' if attempt == 1 else 'ies'}")
            return attempt, result.tail(TAIL_LINES)
        if attempt < tries and call.cancelled.wait(seconds(health.interval)):
            raise Cancelled(call.what)
    raise StepFailed(f"health check `{health.command}` failed {tries} time(s) on droplet "
                     f"{target.droplet.name}; last: {_ended(result, seconds(health.timeout))}",
                     output=result.tail(200), exit_code=result.exit_code,
                     command=health.command)


def stop(target: Target, spec: DeploySpec, call: Call) -> str:
    """Stop what the deployment runs, keeping its folder: the reset script (when the folder
    has it), then the containers, volumes and networks labelled for it. A failing reset
    script is a StepFailed, raised after the labelled containers are gone."""
    with target.host.files() as files:
        scripted = files.exists(f"{target.directory}/{spec.reset}")
    result = run_script(target, spec.reset, spec, call) if scripted else None
    if target.droplet.docker:
        remove_labelled(target, call)
    if result is not None and not result.ok:
        raise StepFailed(f"{spec.reset} {_ended(result, seconds(spec.timeout))} on droplet "
                         f"{target.droplet.name}; its folder {target.directory} and slot are "
                         "kept: fix the script there (or by hand) and try again",
                         output=result.tail(200), exit_code=result.exit_code,
                         command=f"./{spec.reset}")
    return result.tail(TAIL_LINES) if result is not None else ""


def reset(target: Target, spec: DeploySpec, call: Call) -> str:
    """Stop it (`stop`), then remove its folder. A failing reset script keeps the folder (and
    the caller keeps the lease), so nothing half reset is forgotten."""
    with target.host.files() as files:
        present = files.exists(target.directory)
    output = stop(target, spec, call) if present else ""
    if not present and target.droplet.docker:
        remove_labelled(target, call)  # a folder removed by hand may leave containers behind
    if present:
        remove_folder(target, call)
    return output


def own_labels(target: Target) -> tuple[str, ...]:
    """The labels that mark containers, volumes and networks as this deployment's: taskform's
    label and its compose project."""
    return f"{LABEL}={target.name}", f"com.docker.compose.project={target.name}"


def container_labels(target: Target) -> tuple[str, ...]:
    """`own_labels`, and for containers also compose run from its folder (a script that names
    its own compose project)."""
    return (*own_labels(target), f"com.docker.compose.project.working_dir={target.directory}")


def remove_labelled(target: Target, call: Call) -> None:
    """Containers carrying one of `container_labels`, volumes and networks one of
    `own_labels`: never anything else."""
    parts = []
    for label in container_labels(target):
        flt = shlex.quote(f"label={label}")
        parts.append(f"c=$(docker ps -aq --filter {flt}); [ -z \"$c\" ] || docker rm -f $c")
    for label in own_labels(target):
        flt = shlex.quote(f"label={label}")
        parts.append(f"v=$(docker volume ls -q --filter {flt}); [ -z \"$v\" ] || docker volume rm -f $v")
        parts.append(f"n=$(docker network ls -q --filter {flt}); [ -z \"$n\" ] || docker network rm $n")
    result = target.host.run(" ; ".join(parts) + " ; true", call, timeout=120)
    if not result.ok:
        raise StepFailed(f"could not remove the containers of {target.name} on droplet "
                         f"{target.droplet.name}", output=result.tail(200))


def leftovers(target: Target, call: Call) -> list[str]:
    """What of the deployment is still on its droplet: its folder, and the containers carrying
    one of `container_labels`. Empty when nothing is left."""
    with target.host.files() as files:
        left = [f"its directory {target.directory}"] if files.exists(target.directory) else []
    if not target.droplet.docker:
        return left
    seen: set[str] = set()
    for label in container_labels(target):
        command = (f"docker ps -a --filter {shlex.quote(f'label={label}')} --format "
                   "'{{.ID}} {{.Names}} ({{.Status}})'")
        result = target.host.run(command, call, timeout=60)
        if not result.ok:
            raise StepFailed(f"could not list the containers of {target.name} on droplet "
                             f"{target.droplet.name}", output=result.tail(200))
        for line in result.stdout.splitlines():
            found, _, described = line.strip().partition(" ")
            if found and found not in seen:
                seen.add(found)
                left.append(f"container {described} labelled {label}")
    return left


def remove_folder(target: Target, call: Call) -> None:
    if not target.layout.owns(target.directory):  # a name no deployment has: never removed
        raise StepFailed(f"refusing to remove {target.directory}: not a deployment folder",
                         retryable=False)
    result = target.host.run(f"rm -rf -- {shlex.quote(target.directory)}", call, timeout=300)
    if not result.ok:
        raise StepFailed(f"could not remove {target.directory} on droplet "
                         f"{target.droplet.name}", output=result.tail(200))


def _ended(result: CommandResult, limit: float) -> str:
    if result.timed_out:
        return f"timed out after {limit:g}s"
    return f"exited with code {result.exit_code}"


def outputs_of(done: Deployed) -> dict[str, Any]:
    return {"uploaded": done.uploaded, "removed": done.removed, "ran": done.ran,
            "run_output": done.run_output, "health_output": done.health_output,
            "health_tries": done.health_tries}
