"""Create before destroy: a kind declaring `Can.RETIRE` is replaced by making the new thing
first; the old one is retired only after the resources that use it in the same apply have
finished, however they ended. A kind that does not declare it is destroyed first, as before."""

from __future__ import annotations

from typing import Any

import pytest
from kind_kit import register

from runner.kinds.base import BaseKind, Can, Context, Settings
from runner.state.base import Record


class ArtifactSettings(Settings):
    version: int


class ArtifactKind(BaseKind):
    """An image-like thing: each apply makes a new one; what used the old one must move first."""

    name = "artifact"
    settings_model = ArtifactSettings

    def __init__(self, log: list[str], keep: str | None = None) -> None:
        self.log, self.keep, self.made = log, keep, 0

    def apply(self, ctx: Context, settings: ArtifactSettings, prior: Record | None) -> dict[str, Any]:
        self.made += 1
        self.log.append(f"make {ctx.address} #{self.made}")
        return {"id": f"a{self.made}"}

    def destroy(self, ctx: Context, record: Record) -> None:
        self.log.append(f"destroy {record.outputs['id']}")

    def retire(self, ctx: Context, old: Record, new: Record) -> str | None:
        self.log.append(f"retire {old.outputs['id']} for {new.outputs['id']}")
        return self.keep


class UserSettings(Settings):
    uses: str
    fail: bool = False


class UserKind(BaseKind):
    name = "user"
    settings_model = UserSettings

    def __init__(self, log: list[str]) -> None:
        self.log = log

    def apply(self, ctx: Context, settings: UserSettings, prior: Record | None) -> dict[str, Any]:
        self.log.append(f"use {settings.uses} in {ctx.address}")
        if settings.fail:
            from runner.errors import StepFailed

            raise StepFailed("refused", retryable=False)
        return {"uses": settings.uses}


SPEC = """
apiVersion: taskform/v1
kind: Pipeline
metadata: {name: p}
spec:
  steps:
    art: {artifact: {version: VERSION}}
    one: {user: {uses: "{{ steps.art.id }}"}}
    two: {user: {uses: "{{ steps.art.id }}", fail: FAIL}}
    later: {value: {input: "{{ steps.one.uses }}"}}
"""


def workspace(ws, monkeypatch, *can: Can, keep: str | None = None) -> list[str]:  # type: ignore[no-untyped-def]
    log: list[str] = []
    register(monkeypatch, ArtifactKind(log, keep), *can)
    register(monkeypatch, UserKind(log))
    ws.spec(SPEC.replace("VERSION", "1").replace("FAIL", "false"))
    result = ws.cli("apply", "-auto-approve", "-parallelism", "1")
    assert result.exit_code == 0, result.output
    log.clear()
    return log


@pytest.mark.parametrize("how", ["-replace", "changed settings"])
def test_a_retiring_kind_is_made_first_and_retired_after_its_users(ws, monkeypatch, how):
    log = workspace(ws, monkeypatch, Can.DESTROY, Can.RETIRE)
    args = ["-replace", "pipeline.p.art"] if how == "-replace" else []
    if how != "-replace":
        ws.spec(SPEC.replace("VERSION", "2").replace("FAIL", "false"))
    result = ws.cli("apply", "-auto-approve", "-parallelism", "1", *args)
    assert result.exit_code == 0, result.output
    assert log == ["make pipeline.p.art #2", "use a2 in pipeline.p.one", "use a2 in pipeline.p.two",
                   "retire a1 for a2"]


def test_without_retire_the_old_thing_is_destroyed_first(ws, monkeypatch):
    log = workspace(ws, monkeypatch, Can.DESTROY)
    result = ws.cli("apply", "-auto-approve", "-parallelism", "1", "-replace", "pipeline.p.art")
    assert result.exit_code == 0, result.output
    assert log == ["destroy a1", "make pipeline.p.art #2", "use a2 in pipeline.p.one",
                   "use a2 in pipeline.p.two"]


def test_a_failed_user_still_lets_it_retire_and_what_stays_is_said(ws, monkeypatch):
    log = workspace(ws, monkeypatch, Can.DESTROY, Can.RETIRE, keep="kept a1: two still uses it")
    ws.spec(SPEC.replace("VERSION", "2").replace("FAIL", "true"))
    result = ws.cli("apply", "-auto-approve", "-parallelism", "1")
    assert result.exit_code == 1
    assert log == ["make pipeline.p.art #2", "use a2 in pipeline.p.one", "use a2 in pipeline.p.two",
                   "retire a1 for a2"]
    assert "pipeline.p.art: kept a1: two still uses it\n" in result.output
    events = [e for e in ws.state().events(address="pipeline.p.art") if e.event == "retire"]
    assert [e.message for e in events] == ["kept a1: two still uses it"]
