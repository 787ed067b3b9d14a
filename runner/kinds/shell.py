"""`shell`: a local command run in the workspace. Its declared input files enter the
fingerprint; its declared output files are hashed into its outputs and watched for drift."""

from __future__ import annotations

import os
from typing import Any

from pydantic import Field, field_validator

from runner.errors import Cancelled, StepFailed, StepTimeout
from runner.kinds.base import BaseKind, Context, Settings, file_digest, hash_files
from runner.providers.local import run_process
from runner.spec.paths import WorkspacePath
from runner.state.base import Record
from runner.vocabulary import Observation

OUTPUT_TAIL_BYTES = 16 * 1024


class ShellSettings(Settings):
    command: str | list[str] = Field(description="a shell line (run by /bin/sh -c) or an argv list")
    cwd: WorkspacePath = "."
    env: dict[str, str] = Field(default_factory=dict)
    inputs: list[WorkspacePath] = Field(default_factory=list, description="files (globs) that decide the result")
    outputs: list[WorkspacePath] = Field(default_factory=list, description="files the command produces")

    @field_validator("command")
    @classmethod
    def _not_empty(cls, value: str | list[str]) -> str | list[str]:
        if not value:
            raise ValueError("command must not be empty")
        return value


class ShellKind(BaseKind):
    name = "shell"
    settings_model = ShellSettings

    def fingerprint(self, ctx: Context, settings: ShellSettings) -> dict[str, str]:
        return hash_files(ctx, settings.inputs, "inputs")

    def observe(self, ctx: Context, record: Record) -> Observation:
        reasons = []
        for rel, digest in (record.outputs.get("files") or {}).items():
            path = ctx.path(rel, "outputs")
            if not path.is_file():
                reasons.append(f"output file {rel} is missing")
            elif file_digest(path) != digest:
                reasons.append(f"output file {rel} changed outside taskform")
        return Observation(reasons=tuple(reasons))

    def apply(self, ctx: Context, settings: ShellSettings, prior: Record | None) -> dict[str, Any]:
        cwd = ctx.path(settings.cwd, "cwd")
        if not cwd.is_dir():
            raise StepFailed(f"cwd {settings.cwd!r} is not a directory", retryable=False)
        argv = ["/bin/sh", "-c", settings.command] if isinstance(settings.command, str) \
            else list(settings.command)
        env = {**os.environ, **settings.env, "TASKFORM_ADDRESS": str(ctx.address),
               "TASKFORM_RUN": ctx.run_id}
        try:
            result = run_process(argv, cwd=cwd, env=env, deadline=ctx.deadline,
                                 cancelled=ctx.cancelled, on_line=ctx.log, limit=OUTPUT_TAIL_BYTES)
        except OSError as exc:
            raise StepFailed(f"cannot run {argv[0]}: {exc.strerror}", retryable=False) from None
        output = _combined(result.stdout, result.stderr)
        shown = " ".join(argv) if isinstance(settings.command, list) else settings.command
        if result.cancelled:
            raise Cancelled(str(ctx.address))
        if result.timed_out:
            raise StepTimeout(f"timed out after {result.seconds:.1f}s; its process group was "
                              "killed", output=output)
        if result.exit_code != 0:
            raise StepFailed(f"command exited with code {result.exit_code}", output=output,
                             exit_code=result.exit_code, command=shown)
        return {"exit_code": 0, "stdout": result.stdout, "stderr": result.stderr,
                "files": self._output_files(ctx, settings)}

    def _output_files(self, ctx: Context, settings: ShellSettings) -> dict[str, str]:
        files = {}
        for key, digest in hash_files(ctx, settings.outputs, "outputs").items():
            rel = key.removeprefix("file:")
            if digest == "missing":
                raise StepFailed(f"declared output file {rel} was not produced", retryable=False)
            files[rel] = digest
        return files


def _combined(stdout: str, stderr: str) -> str:
    parts = [p.rstrip("\n") for p in (stdout, stderr) if p.strip()]
    return "\n".join(parts)
