"""`model_task_check` (task-sync's step): fill a prompt sample's `{YOUR_TASK_PROMPT}`,
`{YOUR_RUBRIC}` and `{held_out_test_patch}` with the task's files, run it through the LLM
provider and store the verdict. Above 250 KB the patch is attached by reference (written next
to the generated prompt), as task-sync does. Reruns when an input changes, or always with
`force`; a failing verdict fails the step unless `require_pass: false`."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from runner.content import llm_choice, templates
from runner.content.models import Verdict
from runner.errors import StepFailed
from runner.kinds.base import BaseKind, Context, Settings, hash_files
from runner.providers.call import Call
from runner.providers.llm import Request
from runner.spec.paths import WorkspacePath
from runner.state.base import Record
from runner.vocabulary import Observation

DEFAULT_SAMPLE = "prompts/_shared/task_check.md"
ATTACH_ABOVE = 250 * 1024


class ModelTaskCheckSettings(Settings):
    task_prompt: WorkspacePath = Field(description="file with the task statement")
    rubrics_json: WorkspacePath = Field(description="the rubric (rubrics.json)")
    held_out_tests: WorkspacePath = Field(description="the held-out tests patch")
    model_prompt_sample: WorkspacePath | None = Field(default=None, description="prompt sample with the "
                                            "three placeholders; default: taskform's")
    task_explanation: WorkspacePath | None = Field(default=None, description="optional; fills "
                                         "{TASK_EXPLANATION}")
    generated_file: WorkspacePath | None = Field(default=None, description="where the filled prompt is "
                                       "written; default .taskform/checks/<pipeline>-<step>.md")
    force: bool = False
    require_pass: bool = True
    attach_above: int = Field(default=ATTACH_ABOVE, ge=1024)
    provider: Literal["template", "openai"] | None = None
    model: str | None = None


class ModelTaskCheckKind(BaseKind):
    name = "model_task_check"
    settings_model = ModelTaskCheckSettings

    def fingerprint(self, ctx: Context, settings: ModelTaskCheckSettings) -> dict[str, str]:
        files = [settings.task_prompt, settings.rubrics_json, settings.held_out_tests]
        files += [f for f in (settings.model_prompt_sample, settings.task_explanation) if f]
        out = hash_files(ctx, files, "files")
        if not settings.model_prompt_sample:
            out[f"template:{DEFAULT_SAMPLE}"] = templates.digest(
                templates.require(ctx.workspace, DEFAULT_SAMPLE, "model_task_check"))
        out.update(llm_choice.fingerprint(ctx.workspace, settings.provider, settings.model))
        return out

    def observe(self, ctx: Context, record: Record) -> Observation:
        if (record.settings or {}).get("force"):
            return Observation(reasons=("force is set: it runs on every apply",))
        generated = record.outputs.get("generated_file")
        if generated and not ctx.path(generated, "generated_file").is_file():
            return Observation(reasons=(f"generated file {generated} is missing",))
        return Observation()

    def apply(self, ctx: Context, settings: ModelTaskCheckSettings,
              prior: Record | None) -> dict[str, Any]:
        read = {name: _read(ctx, rel, name) for name, rel in (
            ("task_prompt", settings.task_prompt), ("rubrics_json", settings.rubrics_json),
            ("held_out_tests", settings.held_out_tests))}
        sample = _read(ctx, settings.model_prompt_sample, "model_prompt_sample") \
            if settings.model_prompt_sample else \
            templates.require(ctx.workspace, DEFAULT_SAMPLE, "model_task_check").read_text()
        explanation = _read(ctx, settings.task_explanation, "task_explanation") \
            if settings.task_explanation else ""
        target = settings.generated_file or \
            f".taskform/checks/{'-'.join(ctx.address.parts[1:])}.md"
        path = ctx.path(target, "generated_file")
        filled, attachment = _fill(sample, read, explanation, path, settings.attach_above)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(filled)
        llm = llm_choice.llm_for(ctx.workspace, ctx.connections, settings.provider, settings.model)
        messages = [{"role": "user", "content": filled}]
        if attachment:
            head = read["held_out_tests"].encode()[: settings.attach_above].decode(errors="ignore")
            messages.append({"role": "user", "content": f"Attachment {attachment.name} (first "
                             f"{len(head)} of {len(read['held_out_tests'])} characters):\n{head}"})
        reply = llm.complete(Request("task_check", tuple(messages), Verdict, {
            "prompt": read["task_prompt"], "rubric": read["rubrics_json"],
            "patch": read["held_out_tests"]}), Call(ctx.log, ctx.cancelled))
        verdict: Verdict = reply.value
        outputs = {"verdict": verdict.verdict, "issues": verdict.issues, "summary": verdict.summary,
                   "generated_file": ctx.workspace.relative(path),
                   "attachment": ctx.workspace.relative(attachment) if attachment else None,
                   "provider": llm.name, "model": reply.model, "usage": reply.usage.as_dict()}
        if verdict.verdict != "pass" and settings.require_pass:
            raise StepFailed(f"the model task check failed: {verdict.summary or 'verdict fail'}",
                             output="\n".join(f"- {i}" for i in verdict.issues), retryable=False)
        return outputs


def _read(ctx: Context, rel: str, what: str) -> str:
    path = ctx.path(rel, what)
    try:
        return path.read_text()
    except FileNotFoundError:
        raise StepFailed(f"{what}: file {rel} does not exist", retryable=False) from None


def _fill(sample: str, read: dict[str, str], explanation: str, target: Path,
          attach_above: int) -> tuple[str, Path | None]:
    """The filled prompt; a patch too large to inline is attached by reference."""
    def filled(patch: str) -> str:
        return (sample.replace("{YOUR_TASK_PROMPT}", read["task_prompt"])
                .replace("{YOUR_RUBRIC}", read["rubrics_json"])
                .replace("{TASK_EXPLANATION}", explanation)
                .replace("{held_out_test_patch}", patch))
    text = filled(read["held_out_tests"])
    if len(text.encode()) <= attach_above:
        return text, None
    attachment = target.with_name(f"{target.stem}.held_out_tests.patch")
    attachment.parent.mkdir(parents=True, exist_ok=True)
    attachment.write_text(read["held_out_tests"])
    return filled(f"provided as an attached file: {attachment.name}"), attachment
