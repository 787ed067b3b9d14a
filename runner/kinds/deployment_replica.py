"""One replica of a `Deployment` (`deployment.<name>[<n>]`): a task's files in a folder of its
own on a droplet, in a slot it leases there.

Apply keeps the replica's slot (sticky) or claims one, sends only the files whose content
differs, runs `run` when anything was sent (or it is new, or failed, or unhealthy), then waits
for health. A replica a candidate claimed is never changed under them: the change waits for
the release. Observe finds a lost lease, a folder gone, a failing health check, a release.
Destroy resets (the reset script, the deployment's labelled containers, its folder) and gives
the slot back."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from runner.deploy import claims, scripts
from runner.deploy.endpoint import Droplet, droplet_endpoint, host
from runner.deploy.identity import workspace_id
from runner.deploy.layout import deployment_name, lease_id
from runner.deploy.lifecycle import Target, check_health, deploy, outputs_of, reset
from runner.deploy.placement import Placement, place
from runner.deploy.settings import DeploySpec, ReplicaSettings
from runner.deploy.slots import Holder, release, verify
from runner.deploy.sync import LocalFile, local_files
from runner.errors import ProviderError, StepFailed
from runner.kinds.base import BaseKind, Context
from runner.providers.ssh import Host
from runner.state.base import Record, now_iso
from runner.vocabulary import UNKNOWN, Observation, RecordStatus

REFRESH_ADVICE = "plan with -refresh=false to plan without looking at droplets"
RUN_SETTINGS = ("run", "timeout", "env")


def droplet_of(ctx: Context, name: str) -> Droplet:
    return Droplet.from_outputs(name, ctx.outputs(f"droplet.{name}"))


def open_on(ctx: Context, droplet: Droplet) -> Host:
    return host(ctx.workspace, ctx.connections, droplet_endpoint(ctx.workspace, droplet))


def roots(ctx: Context, settings: ReplicaSettings) -> list[Path]:
    """The folders whose files are deployed: the task's starter (or the source), the overlay."""
    found = []
    if settings.task:
        outputs = ctx.outputs(settings.task)
        if outputs is UNKNOWN or not isinstance(outputs, dict) or not outputs.get("dir"):
            raise StepFailed(f"{settings.task} has no recorded files yet", retryable=False)
        found.append(ctx.path(f"{outputs['dir']}/starter", "task"))
    elif settings.source is not None:
        found.append(ctx.path(settings.source.dir, "source.dir"))
    if settings.overlay is not None:
        found.append(ctx.path(settings.overlay.dir, "overlay.dir"))
    return found


def files_of(ctx: Context, settings: ReplicaSettings) -> dict[str, LocalFile]:
    """The files to deploy, with run and reset present and safe; StepFailed otherwise."""
    local = local_files(roots(ctx, settings))
    what = settings.task or (settings.source.dir if settings.source else "")
    for script, resets in ((settings.run, False), (settings.reset, True)):
        if script not in local:
            raise StepFailed(f"{script} is not among the files of {what} (give it with "
                             "overlay: {dir: ...})", retryable=False)
        findings = scripts.check(local[script].path.read_text(errors="replace"), resets=resets)
        if findings:
            raise StepFailed(scripts.refusal(script, findings), retryable=False)
    return local


class DeploymentReplicaKind(BaseKind):
    name = "deployment_replica"
    settings_model = ReplicaSettings

    def fingerprint(self, ctx: Context, settings: ReplicaSettings) -> dict[str, str]:
        missing = [str(p) for p in roots(ctx, settings) if not p.is_dir()]
        if missing:  # a task whose folder is gone is generated again first
            return {"files": "missing: " + ", ".join(missing)}
        return {f"file:{name}": f.digest for name, f in files_of(ctx, settings).items()}

    def dependency_view(self, ctx: Context, settings: ReplicaSettings, dependency: str,
                        outputs: Any) -> Any:
        if dependency.startswith("droplet.") and isinstance(outputs, dict):
            return {k: outputs.get(k) for k in ("address", "port", "user", "remote_dir")}
        if dependency == settings.task and isinstance(outputs, dict):
            return {"dir": outputs.get("dir")}  # its files are fingerprinted one by one
        return outputs

    def apply(self, ctx: Context, settings: ReplicaSettings, prior: Record | None
              ) -> dict[str, Any]:
        me = str(ctx.address)
        if prior is not None and prior.status == RecordStatus.OK:
            held = _held(ctx, prior)
            if held is not None:
                return held
        local = files_of(ctx, settings)
        earlier = prior or ctx.recorded.get(me)
        target, placed = self._place(ctx, settings, earlier)
        previous = _previous_files(earlier, placed)
        healthy = _healthy_before(ctx, target, settings, prior)
        if not healthy:
            ctx.log("not healthy: stopped and run again")
        force = prior is None or prior.status != RecordStatus.OK or not healthy or \
            _run_settings_changed(prior, settings)
        done = deploy(target, settings, local, previous, ctx.call(), force_run=force)
        old = (earlier.outputs or {}) if earlier is not None else {}
        fresh = done.created or old.get("directory") != target.directory
        # every apply starts a generation: the last one's ticket was drawn by this apply
        claims.forget(ctx.facts, me)
        return {"task": settings.task, "droplet": target.droplet.name,
                "address": target.droplet.address, "port": target.droplet.port,
                "user": target.droplet.user, "slot": placed.slot, "lease": placed.lease,
                "name": placed.name, "directory": target.directory,
                "label": f"taskform.deployment={placed.name}", "generation": uuid.uuid4().hex[:12],
                "deployed_at": now_iso() if fresh or done.ran else old.get("deployed_at"),
                "files": {n: f.digest for n, f in local.items()}, "ready": True,
                **outputs_of(done)}

    def _place(self, ctx: Context, settings: ReplicaSettings, earlier: Record | None
               ) -> tuple[Target, Placement]:
        me = str(ctx.address)
        wsid = workspace_id(ctx.facts, create=True)
        assert wsid is not None
        name, lease = deployment_name(wsid, me), lease_id(wsid, me)
        previous = Placement.from_mapping((earlier.outputs if earlier else None) or
                                          claims.placement(ctx.facts, me))
        candidates = [droplet_of(ctx, n) for n in settings.droplets]
        if previous is not None and previous.droplet not in settings.droplets:
            _move_out(ctx, settings, previous)
        holder = Holder(0, lease, me, str(ctx.workspace.root), _hostname(), ctx.run_id,
                        now_iso(), name)
        try:
            key = ctx.address.key[-1] if ctx.address.key else 0
            droplet, slot = place(candidates, lambda d: open_on(ctx, d), holder, previous, me,
                                  hint=key if isinstance(key, int) else 0)
        except ProviderError as exc:
            raise StepFailed(str(exc)) from None
        placed = Placement(droplet.name, slot, name, lease)
        # what destroy needs when no record says it (a first apply that failed records no
        # settings): never the environment, which may hold secrets
        ctx.facts.put(claims.PLACEMENT, me, {**placed.as_fact(), "reset": settings.reset,
                                             "timeout": settings.timeout})
        ctx.log(f"slot {slot} on droplet {droplet.name}")
        return Target(droplet, open_on(ctx, droplet), name, slot), placed

    def observe(self, ctx: Context, record: Record) -> Observation:
        out = record.outputs or {}
        if not out.get("droplet"):
            return Observation(exists=False, reasons=("it was never deployed",))
        me = str(ctx.address)
        claim = claims.current(ctx.facts, me, str(out.get("generation")))
        if claim is not None and claim.released:
            return Observation(reasons=(f"released by {claim.holder} at {claim.released_at}: "
                                        "it was reset and is deployed again",))
        outputs = ctx.outputs(f"droplet.{out['droplet']}")
        if outputs is UNKNOWN:
            return Observation(reasons=(f"droplet {out['droplet']} is not recorded",))
        droplet = Droplet.from_outputs(str(out["droplet"]), outputs)
        settings = ReplicaSettings.model_validate(record.settings)
        try:
            return _look(ctx, droplet, settings, out, claim)
        except ProviderError as exc:
            raise ProviderError(f"droplet.{droplet.name}: {exc} ({me} is deployed there); "
                                f"{REFRESH_ADVICE}") from None

    def destroy(self, ctx: Context, record: Record) -> None:
        me = str(ctx.address)
        placed = Placement.from_mapping(record.outputs) or \
            Placement.from_mapping(claims.placement(ctx.facts, me))
        if placed is not None:
            _reset_and_release(ctx, _reset_spec(ctx, record), placed)
        ctx.facts.put(claims.PLACEMENT, me, None)
        claims.forget(ctx.facts, me)


def _held(ctx: Context, prior: Record) -> dict[str, Any] | None:
    """The recorded outputs, unchanged, when a candidate holds this generation: its change
    waits for the release (which resets it and starts a new generation)."""
    me, generation = str(ctx.address), str(prior.outputs.get("generation") or "")
    if not generation or claims.draw(ctx.facts, me, generation):
        return None
    claim = claims.current(ctx.facts, me, generation)
    if claim is not None and claim.released:
        return None  # reset by its holder: deployed again now
    holder = claim.holder if claim else "a candidate"
    ctx.log(f"claimed by {holder}: left as it is until it is released")
    return {**prior.outputs, "held_by": holder, "pending": True}


def _look(ctx: Context, droplet: Droplet, settings: ReplicaSettings, out: dict[str, Any],
          claim: claims.Claim | None) -> Observation:
    target = Target(droplet, open_on(ctx, droplet), str(out["name"]), int(out["slot"]))
    reasons = []
    with target.host.files() as files:
        other = verify(files, target.layout, target.slot, str(out.get("lease")))
        present = files.exists(target.directory)
    if other is not None:
        reasons.append(f"slot {target.slot} on droplet {droplet.name} is no longer its lease: "
                       f"held by {other.describe()}")
    if not present:
        reasons.append(f"remote directory {target.directory} on droplet {droplet.name} is gone")
    if claim is not None:  # the holder's now: nothing is done to it until it is released
        return Observation(notes=(f"claimed by {claim.holder} since {claim.since}",
                                  *reasons))
    if present and settings.health is not None and not reasons:
        result = check_health(target, settings, ctx.call())
        if not result.ok:
            last = (result.tail(1) or f"exit code {result.exit_code}").strip()
            reasons.append(f"health check `{settings.health.command}` fails on droplet "
                           f"{droplet.name}: {last}")
    return Observation(reasons=tuple(reasons))


def _healthy_before(ctx: Context, target: Target, settings: ReplicaSettings,
                    prior: Record | None) -> bool:
    """False for an update of a deployment that is up but unhealthy (observe planned it for
    that reason): it is stopped and run again even if no file changed."""
    if prior is None or prior.status != RecordStatus.OK or settings.health is None:
        return True
    if prior.outputs.get("directory") != target.directory:
        return True
    with target.host.files() as files:
        if not files.exists(target.directory):
            return True
    return check_health(target, settings, ctx.call()).ok


def _run_settings_changed(prior: Record, settings: ReplicaSettings) -> bool:
    """True when what `run` is or how it runs changed (defaults filled in on both sides)."""
    try:
        before = ReplicaSettings.model_validate(prior.settings).model_dump()
    except ValueError:
        return True
    now = settings.model_dump()
    return any(before.get(k) != now.get(k) for k in RUN_SETTINGS)


def _previous_files(earlier: Record | None, placed: Placement) -> list[str]:
    out = (earlier.outputs or {}) if earlier is not None else {}
    if out.get("droplet") != placed.droplet or out.get("name") != placed.name:
        return []
    return list(out.get("files") or {})


def _reset_spec(ctx: Context, record: Record) -> DeploySpec:
    """How to reset the replica: its recorded settings, or what its placement kept."""
    if record.settings is not None:
        return ReplicaSettings.model_validate(record.settings)
    kept = claims.placement(ctx.facts, str(ctx.address)) or {}
    return DeploySpec.model_validate({"source": {"dir": "."},
                                      "reset": kept.get("reset") or "kill.sh",
                                      "timeout": kept.get("timeout") or "10m"})


def _move_out(ctx: Context, settings: ReplicaSettings, previous: Placement) -> None:
    ctx.log(f"droplet {previous.droplet} is no longer among its droplets: moving")
    _reset_and_release(ctx, settings, previous)


def _reset_and_release(ctx: Context, settings: DeploySpec, placed: Placement) -> None:
    outputs = ctx.outputs(f"droplet.{placed.droplet}")
    if outputs is UNKNOWN:
        record = ctx.recorded.get(f"droplet.{placed.droplet}")
        outputs = record.outputs if record is not None else None
    droplet = Droplet.from_outputs(placed.droplet, outputs)
    try:
        target = Target(droplet, open_on(ctx, droplet), placed.name, placed.slot)
        reset(target, settings, ctx.call())
        with target.host.files() as files:
            release(files, target.layout, placed.lease, placed.slot)
    except ProviderError as exc:
        raise StepFailed(f"droplet {droplet.name}: {exc}. If the droplet is gone for good, "
                         f"forget this deployment with `taskform state rm {ctx.address}`",
                         retryable=False) from None
    ctx.log(f"reset; slot {placed.slot} on droplet {droplet.name} given back")


def _hostname() -> str:
    import socket

    return socket.gethostname()
