"""`docker_pull` (task-sync's step, with its bugs fixed: settings are never rewritten, the image
id is really looked up). Pulls `image_tag`; an expected `image_id` that differs is a failure.
`prevent_run_before` holds pulls off until then; after a pull the next one is due
`pull_interval` later (6h by default), which `plan` shows as a change once it has passed."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import Field, field_validator

from runner.duration import parse_duration
from runner.errors import StepFailed
from runner.kinds.base import Context
from runner.kinds.engines import OnEngine, OnEngineSettings, engine, recorded_engine
from runner.providers.docker.engine import ImageInfo, observing, split_tag
from runner.providers.docker.images import image_drift
from runner.providers.docker.labels import short_id
from runner.state.base import Record
from runner.vocabulary import Observation


class DockerPullSettings(OnEngineSettings):
    image_tag: str = Field(description="what to pull, e.g. 127.0.0.1:5000/taskform/base:bookworm")
    image_id: str | None = Field(default=None, description="expected image id; a mismatch fails")
    prevent_run_before: dt.datetime | None = Field(default=None, description="RFC 3339 time; "
                                                   "no pull before it")
    pull_interval: str | None = Field(default="6h", description="pull again once this long has "
                                      "passed (null: never)")
    remove_on_destroy: bool = Field(default=False, description="destroy untags the pulled image "
                                    "(only if it still has the id taskform pulled)")

    @field_validator("pull_interval")
    @classmethod
    def _duration(cls, value: str | None) -> str | None:
        if value is not None:
            parse_duration(value)
        return value

    @field_validator("prevent_run_before")
    @classmethod
    def _aware(cls, value: dt.datetime | None) -> dt.datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("expected an RFC 3339 time with a zone, like 2025-01-01T00:00:00Z")
        return value


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class DockerPullKind(OnEngine):
    name = "docker_pull"
    settings_model = DockerPullSettings

    def observe(self, ctx: Context, record: Record) -> Observation:
        with observing():
            drift = image_drift(recorded_engine(ctx, record), record.outputs)
        if not drift.in_sync:
            return drift
        due = record.outputs.get("next_pull_after")
        if due and dt.datetime.fromisoformat(due.replace("Z", "+00:00")) <= _now():
            return Observation(reasons=(f"pull_interval passed: last pulled at "
                                        f"{record.outputs.get('pulled_at')}",))
        return drift

    def apply(self, ctx: Context, settings: DockerPullSettings, prior: Record | None) -> dict[str, Any]:
        hold = settings.prevent_run_before
        docker = engine(ctx, settings.engine)
        if hold is not None and _now() < hold:
            image = docker.image(settings.image_tag)
            if image is None:
                raise StepFailed(f"{settings.image_tag} is not present, and prevent_run_before "
                                 f"({_iso(hold)}) forbids pulling it before then", retryable=False)
            ctx.log(f"not pulled: prevent_run_before is {_iso(hold)}; using the local image")
            return self._outputs(settings, image, pulled_at=None, next_pull=hold)
        ctx.log(f"pulling {settings.image_tag}")
        docker.pull(settings.image_tag, ctx.call())
        image = docker.image(settings.image_tag)
        if image is None:
            raise StepFailed(f"pulled {settings.image_tag}, but the engine does not list it")
        if settings.image_id and _bare(settings.image_id) != _bare(image.id):
            raise StepFailed(f"pulled {settings.image_tag} has id {image.id}, expected "
                             f"{settings.image_id}", retryable=False)
        now = _now()
        interval = parse_duration(settings.pull_interval) if settings.pull_interval else None
        nxt = now + dt.timedelta(seconds=interval) if interval is not None else None
        return self._outputs(settings, image, pulled_at=now, next_pull=nxt)

    def _outputs(self, settings: DockerPullSettings, image: ImageInfo,
                 pulled_at: dt.datetime | None,
                 next_pull: dt.datetime | None) -> dict[str, Any]:
        repo = split_tag(settings.image_tag)[0]
        digests = list(image.repo_digests)
        digest = next((d for d in digests if d.startswith(repo + "@")), digests[0] if digests else "")
        return {"image_id": image.id, "repo_digest": digest, "image_tag": settings.image_tag,
                "pulled_at": _iso(pulled_at) if pulled_at else None,
                "next_pull_after": _iso(next_pull) if next_pull else None}

    def destroy(self, ctx: Context, record: Record) -> None:
        settings = record.settings if isinstance(record.settings, dict) else {}
        if not settings.get("remove_on_destroy"):
            return  # pulled images are shared and unlabelled: removed only when asked
        tag, image_id = str(record.outputs.get("image_tag") or ""), record.outputs.get("image_id")
        docker = recorded_engine(ctx, record)
        image = docker.image(tag) if tag else None
        if image is None or image.id != image_id:
            return
        ctx.log(f"untagging {tag} ({short_id(image.id)})")
        docker.remove_image(tag)


def _bare(image_id: str) -> str:
    return image_id.removeprefix("sha256:")
