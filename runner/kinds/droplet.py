"""`Droplet` document: an SSH host with Docker that deployments take slots on.

Apply connects (the host key checked as the spec says), checks Docker, makes taskform's folder
(`remote_dir`: slots and deployments) and records how to reach the host, the key it presented
(pinned from then on when `accept_new` took it) and the slots in use. Observe does the same
checks: an unreachable droplet, a changed host key or a Docker that does not answer is a plan
error naming the droplet (`-refresh=false` plans without looking). Destroy forgets the droplet
and leaves the machine alone, and is refused while deployments of this workspace hold slots
on it."""

from __future__ import annotations

from typing import Any

from runner.deploy import slots
from runner.deploy.endpoint import host, settings_endpoint
from runner.deploy.identity import workspace_id
from runner.deploy.layout import Layout
from runner.deploy.settings import DropletSettings
from runner.errors import ProviderError, StepFailed
from runner.kinds.base import BaseKind, Context
from runner.providers.ssh import Host
from runner.providers.ssh.door import key_line_fingerprint
from runner.state.base import Record
from runner.vocabulary import IN_SYNC, Observation

REFRESH_ADVICE = "plan with -refresh=false to plan without looking at droplets"


def name_of(ctx: Context) -> str:
    return ctx.address.parts[-1]


def pinned_key(settings: DropletSettings, record: Record | None) -> str | None:
    """The key accept_new took earlier, while the droplet still is the same host."""
    if not settings.accept_new or record is None:
        return None
    out = record.outputs or {}
    same = (out.get("address"), out.get("port")) == (settings.address, settings.port)
    return str(out["host_key"]) if same and out.get("trust") == "accept_new" and \
        out.get("host_key") else None


def open_droplet(ctx: Context, settings: DropletSettings, record: Record | None) -> Host:
    endpoint = settings_endpoint(ctx.workspace, settings, pinned_key(settings, record))
    return host(ctx.workspace, ctx.connections, endpoint)


def docker_version(found: Host, ctx: Context) -> str:
    """The droplet's Docker server version; ProviderError when it does not answer."""
    result = found.run("docker version --format '{{.Server.Version}}'", ctx.call(), timeout=30)
    if not result.ok:
        raise ProviderError(f"Docker does not answer on it: {result.tail(3) or 'no output'} "
                            "(set docker: false for a droplet without Docker)")
    return result.stdout.strip()


class DropletKind(BaseKind):
    name = "droplet"
    settings_model = DropletSettings

    def apply(self, ctx: Context, settings: DropletSettings, prior: Record | None
              ) -> dict[str, Any]:
        record = prior or ctx.recorded.get(str(ctx.address))
        try:
            found = open_droplet(ctx, settings, record)
            presented = found.host_key()
            version = docker_version(found, ctx) if settings.docker else None
        except ProviderError as exc:
            raise StepFailed(f"droplet {name_of(ctx)}: {exc}") from None
        layout = Layout(settings.remote_dir)
        with found.files() as files:
            for folder in (layout.slots, layout.tmp, layout.deployments):
                files.mkdirs(folder)
            held = slots.holders(files, layout)
        ctx.log(f"{found.endpoint.name}: {presented.split()[0]} "
                f"{key_line_fingerprint(presented)}; {len(held)} of {settings.capacity} slot(s) "
                "in use")
        return {"name": name_of(ctx), "address": settings.address, "port": settings.port,
                "user": settings.user, "ssh_key": settings.ssh_key.model_dump(exclude_none=True),
                "host_key": presented, "host_key_sha256": key_line_fingerprint(presented),
                "trust": _trust(settings), "capacity": settings.capacity,
                "remote_dir": settings.remote_dir, "docker": settings.docker,
                "docker_version": version, "slots_in_use": len(held)}

    def observe(self, ctx: Context, record: Record) -> Observation:
        if not record.outputs.get("host_key") or record.settings is None:
            return Observation(exists=False, reasons=("it was never reached",))
        settings = DropletSettings.model_validate(record.settings)
        me = f"droplet.{name_of(ctx)}"
        try:
            found = open_droplet(ctx, settings, record)
            presented = found.host_key()
            if settings.docker:
                docker_version(found, ctx)
            with found.files() as files:
                present = files.exists(Layout(settings.remote_dir).slots)
                held = slots.holders(files, Layout(settings.remote_dir))
        except ProviderError as exc:
            raise ProviderError(f"{me}: {exc}; {REFRESH_ADVICE}") from None
        reasons = []
        if presented != record.outputs.get("host_key"):
            reasons.append(f"its host key is now {key_line_fingerprint(presented)} (trusted by "
                           f"{found.endpoint.trust.describe()}), recorded "
                           f"{record.outputs.get('host_key_sha256')}")
        if not present:
            reasons.append(f"taskform's folder {settings.remote_dir}/.taskform is gone")
        ours = self._ours(ctx, held)
        note = f"{len(held)} of {settings.capacity} slot(s) in use, {len(ours)} by this workspace"
        return Observation(reasons=tuple(reasons), notes=(note,)) if reasons or held else IN_SYNC

    def destroy(self, ctx: Context, record: Record) -> None:
        if not record.outputs.get("host_key") or record.settings is None:
            return  # never reached: nothing was made there, nothing can be held
        settings = DropletSettings.model_validate(record.settings)
        try:
            found = open_droplet(ctx, settings, record)
            with found.files() as files:
                held = slots.holders(files, Layout(settings.remote_dir))
        except ProviderError as exc:
            raise StepFailed(f"droplet {name_of(ctx)} cannot be checked for deployments before "
                             f"it is forgotten: {exc}. If it is gone for good, forget it (and "
                             f"what was deployed on it) with `taskform state rm`",
                             retryable=False) from None
        ours = self._ours(ctx, held)
        if ours:
            names = ", ".join(f"{h.address} (slot {h.slot})" for h in ours)
            raise StepFailed(f"droplet {name_of(ctx)} still holds deployments of this "
                             f"workspace: {names}; destroy them or move them to other droplets "
                             "first, then apply again", retryable=False)
        ctx.log(f"forgotten; {settings.remote_dir} on the machine is left as it is")

    @staticmethod
    def _ours(ctx: Context, held: dict[int, slots.Holder]) -> list[slots.Holder]:
        mine = workspace_id(ctx.facts, create=False)
        return [h for _, h in sorted(held.items())
                if mine and h.lease.startswith(f"{mine}/")]


def _trust(settings: DropletSettings) -> str:
    if settings.host_key:
        return "host_key"
    return "known_hosts" if settings.known_hosts else "accept_new"
