"""`task_deploy` (internal): `verify: deploy` on a Task, as its child `task.<name>["deploy"]`.

Apply leases a slot on one of the droplets (the same leases as deployments), sends the draft's
starter folder there, runs `run.sh`, waits for the health check, runs `kill.sh`, and checks that
nothing of the task is left: its folder gone, no container labelled for it. Then the slot is
given back. Whatever fails is a StepFailed naming it, so the Task is not published; whatever a
failed check left behind is removed by taskform (labelled containers, the folder) before the
slot is given back. Destroy frees a slot an interrupted apply still holds."""

from __future__ import annotations

import socket
from collections.abc import Mapping
from typing import Any

from pydantic import Field

from runner.deploy import claims, scripts
from runner.deploy.endpoint import Droplet, droplet_endpoint, host
from runner.deploy.identity import workspace_id
from runner.deploy.layout import LABEL, deployment_name, lease_id
from runner.deploy.lifecycle import (
    Target,
    container_labels,
    deploy,
    leftovers,
    remove_folder,
    remove_labelled,
    run_script,
)
from runner.deploy.placement import Placement, place
from runner.deploy.settings import DeploySpec, seconds
from runner.deploy.slots import Holder, release
from runner.deploy.sync import LocalFile, local_files
from runner.errors import ProviderError, StepFailed
from runner.kinds.base import BaseKind, Context
from runner.providers.call import Call
from runner.providers.ssh import Host
from runner.state.base import Record, now_iso
from runner.vocabulary import UNKNOWN


class TaskDeploySettings(DeploySpec):
    """`task`: the draft whose starter folder is deployed; `droplets`: where it may go."""

    droplets: list[str] = Field(min_length=1, description="Droplet names, in order of choice")


class TaskDeployKind(BaseKind):
    name = "task_deploy"
    settings_model = TaskDeploySettings

    def dependency_view(self, ctx: Context, settings: TaskDeploySettings, dependency: str,
                        outputs: Any) -> Any:
        if dependency.startswith("droplet.") and isinstance(outputs, Mapping):
            return {k: outputs.get(k) for k in ("address", "port", "user", "remote_dir")}
        return outputs

    def apply(self, ctx: Context, settings: TaskDeploySettings, prior: Record | None
              ) -> dict[str, Any]:
        local = files_of(ctx, settings)
        target, placed = _place(ctx, settings)
        try:
            checked = _deploy_and_kill(ctx, target, settings, local)
        finally:
            trouble = _clean_up(ctx, target, placed)
        if trouble:
            raise StepFailed(trouble, retryable=False)
        return {"droplet": placed.droplet, "slot": placed.slot, "directory": target.directory,
                "label": f"{LABEL}={placed.name}", "files": len(local), **checked}

    def destroy(self, ctx: Context, record: Record) -> None:
        placed = Placement.from_mapping(claims.placement(ctx.facts, str(ctx.address)))
        if placed is None:
            return  # every apply gave its slot back
        target = Target(_droplet(ctx, placed.droplet), _open(ctx, placed.droplet), placed.name,
                        placed.slot)
        trouble = _clean_up(ctx, target, placed)
        if trouble:
            raise StepFailed(trouble, retryable=False)


def files_of(ctx: Context, settings: TaskDeploySettings) -> dict[str, LocalFile]:
    """The draft's starter files, with run.sh and kill.sh present and not machine-wide."""
    outputs = ctx.outputs(settings.task or "")
    if outputs is UNKNOWN or not isinstance(outputs, Mapping) or not outputs.get("dir"):
        raise StepFailed(f"{settings.task} has no recorded files yet", retryable=False)
    local = local_files([ctx.path(f"{outputs['dir']}/starter", "task")])
    for script in (settings.run, settings.reset):
        if script not in local:
            raise StepFailed(f"the task ships no {script}: it cannot be deployed and removed "
                             "again", retryable=False)
        # kill.sh removes its own folder: which removals are its own the content gate decided
        findings = scripts.check(local[script].path.read_text(errors="replace"), resets=False)
        if findings:
            raise StepFailed(scripts.refusal(script, findings), retryable=False)
    return local


def _deploy_and_kill(ctx: Context, target: Target, settings: TaskDeploySettings,
                     local: Mapping[str, LocalFile]) -> dict[str, Any]:
    where = f"droplet {target.droplet.name}"
    done = deploy(target, settings, local, [], ctx.call(), force_run=True)
    result = run_script(target, settings.reset, settings, ctx.call())
    if not result.ok:
        ended = f"timed out after {seconds(settings.timeout):g}s" if result.timed_out else \
            f"exited with code {result.exit_code}"
        raise StepFailed(f"{settings.reset} {ended} on {where} ({target.directory})",
                         output=result.tail(200), exit_code=result.exit_code,
                         command=f"./{settings.reset}")
    left = leftovers(target, ctx.call())
    if left:
        raise StepFailed(f"{settings.reset} left on {where}: {'; '.join(left)} (taskform removed "
                         "them; kill.sh must remove its containers and its own directory)",
                         output=result.tail(200), command=f"./{settings.reset}")
    ctx.log(f"deployed, healthy and removed again on {where}: nothing left")
    return {"health_tries": done.health_tries, "run_output": done.run_output,
            "kill_output": result.tail(20),
            "checked": {"directory": target.directory, "container_labels": list(
                container_labels(target)) if target.droplet.docker else []}}


def _place(ctx: Context, settings: TaskDeploySettings) -> tuple[Target, Placement]:
    me = str(ctx.address)
    wsid = workspace_id(ctx.facts, create=True)
    assert wsid is not None
    name, lease = deployment_name(wsid, me), lease_id(wsid, me)
    previous = Placement.from_mapping(claims.placement(ctx.facts, me))
    if previous is not None:  # an interrupted apply's: clear it up before starting again
        trouble = _clean_up(ctx, Target(_droplet(ctx, previous.droplet),
                                        _open(ctx, previous.droplet), previous.name,
                                        previous.slot), previous)
        if trouble:
            raise StepFailed(trouble, retryable=False)
    holder = Holder(0, lease, me, str(ctx.workspace.root), socket.gethostname(), ctx.run_id,
                    now_iso(), name)
    candidates = [_droplet(ctx, n) for n in settings.droplets]
    try:
        droplet, slot = place(candidates, lambda d: _open(ctx, d.name), holder, None, me)
    except ProviderError as exc:
        raise StepFailed(str(exc)) from None
    placed = Placement(droplet.name, slot, name, lease)
    ctx.facts.put(claims.PLACEMENT, me, placed.as_fact())  # for destroy, should apply die
    ctx.log(f"slot {slot} on droplet {droplet.name}")
    return Target(droplet, _open(ctx, droplet.name), name, slot), placed


def _clean_up(ctx: Context, target: Target, placed: Placement) -> str | None:
    """Remove what is left (labelled containers, the folder) and give the slot back; what
    could not be done, or None. Not cancellable: an interrupted check must not hold a slot."""
    call = Call(log=ctx.log, what=str(ctx.address))
    try:
        if target.droplet.docker:
            remove_labelled(target, call)
        with target.host.files() as files:
            present = files.exists(target.directory)
        if present:
            remove_folder(target, call)
        with target.host.files() as files:
            release(files, target.layout, placed.lease, placed.slot)
    except (ProviderError, StepFailed) as exc:
        message = (f"could not clear up after the check on droplet {placed.droplet}: {exc}; "
                   f"its slot {placed.slot} is kept until `taskform destroy` frees it")
        ctx.log(message)
        return message
    ctx.facts.put(claims.PLACEMENT, str(ctx.address), None)
    ctx.log(f"slot {placed.slot} on droplet {placed.droplet} given back")
    return None


def _droplet(ctx: Context, name: str) -> Droplet:
    outputs = ctx.outputs(f"droplet.{name}")
    if outputs is UNKNOWN or outputs is None:
        record = ctx.recorded.get(f"droplet.{name}")
        outputs = record.outputs if record is not None else None
    return Droplet.from_outputs(name, outputs)


def _open(ctx: Context, name: str) -> Host:
    return host(ctx.workspace, ctx.connections, droplet_endpoint(ctx.workspace,
                                                                 _droplet(ctx, name)))
