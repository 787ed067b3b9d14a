"""`rubric_set` (task-sync's step): grade candidate solutions against a rubric in the containers
of a pool. It expands at plan time into one `rubric_shell` per criterion × solution, addressed
`pipeline.<p>.<step>["<criterion>","<solution>"]`, and applies after them: scores per solution,
the validation gates (failing the step, naming the criteria) and, with `report:`, the HTML page.

docs/grading.md is the user's page and the state contract; `runner/rubric/` does the work that
needs no Docker."""

from __future__ import annotations

import datetime
import os
from pathlib import Path
from typing import Any

from pydantic import ConfigDict, Field, model_validator

from runner.address import parse_address
from runner.errors import StepFailed
from runner.kinds.base import (
    BaseKind,
    Child,
    Context,
    Expansion,
    ExpansionDeferred,
    Settings,
    file_digest,
    hash_files,
)
from runner.rubric import score
from runner.rubric.lease import pool_image_ids
from runner.rubric.model import Rubric
from runner.rubric.parse import JSON_NAME, load_rubric
from runner.rubric.patches import DEFAULT_PROTECTED
from runner.rubric.results import CHILD_KIND, grading_statuses, parent_outputs
from runner.rubric.score import GOLDEN, ORIGINAL, ValidateSettings, check_gates, score_solution
from runner.rubric.solutions import Solution, candidates, classify_files, columns, discovered
from runner.state.base import Record
from runner.vocabulary import Observation

# settings a grading reads when it runs: they may read other steps' outputs
RUNTIME_KEYS = ("setup", "workdir", "git_dir", "pristine", "expected_tree", "user")


class RubricSetSettings(Settings):
    pool: str = Field(description="the docker_pool or docker_volume_pool step whose containers "
                      "grade: a step name (pool), or an address (pipeline.shared.pool)")
    task_dir: str = Field(default=".", description="folder (in the workspace) holding the rubric "
                          "and the patches")
    file: str = Field(default="TASK_DATA.md", description="the rubric, in task_dir; a "
                      "rubrics.json next to it wins")
    solutions: list[str] | dict[str, str] | None = Field(
        default=None, description="candidate patch files (named after the file: "
        "solution1.patch → solution1), or {name: file}; default: every solution*.patch in task_dir")
    golden: str | None = Field(default="golden.patch", description="the reference patch; null: "
                               "no golden column")
    original: bool = Field(default=True, description="also grade the unmodified project")
    held_out_tests: str = Field(default="held_out_tests.patch", description="the held-out tests "
                                "patch, applied after each solution")
    setup: list[str] = Field(default_factory=list, description="commands run as root in the work "
                             "dir after the reset, before the solution patch")
    pre_patch: str | None = Field(default=None, description="task-sync's pre_patch.patch: a "
                                  "script file run (with bash) after the setup commands")
    workdir: str = Field(default="/app", description="the project inside the containers")
    git_dir: str | None = Field(default=None, description="its git dir (default <workdir>/.git); "
                                "keep it root-owned")
    pristine: str = Field(default="HEAD", description="the commit every grading starts from")
    expected_tree: str | None = Field(default=None, description="when set, the reset must land "
                                      "on exactly this tree hash")
    user: str = Field(default="grader", description="the non-root user the command runs as (a "
                      "name, or uid:gid)")
    timeout_seconds: float | None = Field(default=None, gt=0, description="per held-out command "
                                          "(default: grading.timeout_seconds in taskform.yaml)")
    kill_after: float = Field(default=2.0, ge=0, le=60, description="seconds between SIGTERM and "
                              "SIGKILL at the deadline")
    output_limit: int | None = Field(default=None, gt=0, description="bytes of output kept per "
                                     "grading (default: grading.output_limit)")
    protected: list[str] = Field(default_factory=lambda: list(DEFAULT_PROTECTED),
                                 description="test-harness file names a solution may not touch")
    validate_: ValidateSettings | None = Field(default=None, alias="validate",
                                               description="gates: {golden_must_pass, "
                                               "original_must_fail, repeat}")
    require_lockdown: bool = Field(default=True, description="refuse a pool that is not locked "
                                   "down (network, limits, capabilities, no-new-privileges, init)")
    report: str | None = Field(default=None, description="write the HTML report to this file "
                               "(in the workspace) after grading, e.g. reports/grading.html")
    files: list[str] | dict[str, Any] | None = Field(
        default=None, description="task-sync's file list: solutionN.patch, golden.patch, "
        "held_out_tests.patch, pre_patch.patch (hashes are ignored)")
    held_out_test: str | None = Field(default=None, description="task-sync's name for "
                                      "held_out_tests")

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    @model_validator(mode="after")
    def _task_sync_names(self) -> RubricSetSettings:
        given = self.model_fields_set
        if self.held_out_test is not None:
            if "held_out_tests" in given:
                raise ValueError("set held_out_tests or task-sync's held_out_test, not both")
            self.held_out_tests = self.held_out_test
        if self.files is not None:
            found = classify_files(list(self.files), self.file)
            if "solutions" not in given:
                self.solutions = found.solutions
            if "golden" not in given:
                self.golden = found.golden
            if found.held_out_tests and "held_out_tests" not in given \
                    and self.held_out_test is None:
                self.held_out_tests = found.held_out_tests
            if found.pre_patch and "pre_patch" not in given:
                self.pre_patch = found.pre_patch
        validate = self.validate_
        if validate and validate.golden_must_pass and self.golden is None:
            raise ValueError("validate.golden_must_pass needs a golden patch (golden is null)")
        if validate and validate.original_must_fail and not self.original:
            raise ValueError("validate.original_must_fail needs the original (original is false)")
        return self


class RubricSetKind(BaseKind):
    name = "rubric_set"
    settings_model = RubricSetSettings

    def references(self, settings: RubricSetSettings) -> list[str]:
        return [] if "." in settings.pool else [f"steps.{settings.pool}"]

    def expand(self, ctx: Context, settings: RubricSetSettings,
               expansion: Expansion) -> list[Child] | None:
        deciding = sorted(expansion.late - set(RUNTIME_KEYS))
        if deciding:  # read from a dependency not applied yet: plan the gradings during apply
            raise ExpansionDeferred(f"{', '.join(deciding)} read outputs not known yet")
        model, waits = settings, expansion.depends_on
        rubric = self._rubric(ctx, model, waits)
        common = self._child_common(ctx, model, expansion)
        solutions = self._solutions(ctx, model, waits)
        # each patch's path once, not once per criterion (5,000 cells, 500 solutions)
        patches = {s.name: self._task_path(ctx, model, s.patch, waits=waits) for s in solutions}
        children = []
        for criterion in rubric.criteria:
            info = {"id": criterion.id, "counter": criterion.counter, "score": criterion.score,
                    "required": criterion.required, "title": criterion.title,
                    "text": criterion.criterion}
            for solution in solutions:
                runs = model.validate_.repeat if model.validate_ and solution.name == GOLDEN else 1
                children.append(Child(key=(criterion.id, solution.name), kind=CHILD_KIND, settings={
                    **common, "criterion": info, "command": criterion.command,
                    "solution": solution.name, "patch": patches[solution.name],
                    "runs": runs}))
        return children

    def fingerprint(self, ctx: Context, settings: RubricSetSettings) -> dict[str, str]:
        folder = Path(settings.task_dir)
        return hash_files(ctx, [str(folder / settings.file), str(folder / JSON_NAME)], "file")

    def expansion_reads(self, settings: Any, dependency: str) -> bool:
        """The criteria and solutions come from files a dependency may write; not the pool."""
        pool = settings.get("pool") if isinstance(settings, dict) else None
        if not isinstance(pool, str):
            return True
        own_pipeline = dependency.rsplit(".", 1)[0]
        return dependency != (pool if "." in pool else f"{own_pipeline}.{pool}")

    def dependency_view(self, ctx: Context, settings: RubricSetSettings, dependency: str,
                        outputs: Any) -> Any:
        if dependency == pool_address(ctx, settings.pool):
            return {"image_ids": pool_image_ids(outputs)}  # not the containers: see rubric_shell
        return outputs

    def observe(self, ctx: Context, record: Record) -> Observation:
        path, digest = _report(ctx, record)
        if path is None:
            return Observation()
        shown = ctx.workspace.relative(path)
        if not path.is_file():
            return Observation(reasons=(f"report {shown} is missing",))
        if file_digest(path) != digest:
            return Observation(reasons=(f"report {shown} changed outside taskform",))
        return Observation()

    def destroy(self, ctx: Context, record: Record) -> None:
        """The report goes with the step, unless someone changed it since it was written."""
        path, digest = _report(ctx, record)
        if path is not None and path.is_file() and file_digest(path) == digest:
            path.unlink()

    def apply(self, ctx: Context, settings: RubricSetSettings, prior: Record | None) -> dict[str, Any]:
        rubric = self._rubric(ctx, settings)
        names = [s.name for s in self._solutions(ctx, settings)]
        children = {(c.id, s): ctx.outputs(str(ctx.address.child(c.id, s)))
                    for c in rubric.criteria for s in names}
        statuses, golden = grading_statuses(children)
        scores = [score_solution(s, rubric.criteria, {c.id: statuses.get((c.id, s))
                                                       for c in rubric.criteria}) for s in names]
        validate = settings.validate_
        gates = None
        if validate is not None:
            original = {c.id: statuses.get((c.id, ORIGINAL)) for c in rubric.criteria}
            gates = check_gates(validate, rubric.criteria, golden, original)
        outputs = parent_outputs(rubric, names, validate, scores, gates)
        if settings.report:
            outputs["report"] = self._write_report(ctx, settings.report, outputs, children, gates)
        if gates is not None and not gates.ok:
            raise StepFailed("validation gates failed: " + "; ".join(gates.messages),
                             output=score.gate_details(gates, rubric.criteria), retryable=False)
        return outputs

    # -- settings known at plan time ------------------------------------------------------

    def _child_common(self, ctx: Context, model: RubricSetSettings,
                      expansion: Expansion) -> dict[str, Any]:
        raw, waits = expansion.raw, expansion.depends_on
        grading = ctx.workspace.config.grading
        runtime = {k: raw.get(k, getattr(model, k)) for k in RUNTIME_KEYS}
        if model.pre_patch:
            script = self._task_file(ctx, model, model.pre_patch, "pre_patch", waits)
            runtime["setup"] = [*(runtime["setup"] or []), script.read_text()]
        return {
            **runtime, "pool": pool_address(ctx, model.pool),
            "held_out_tests": self._task_path(ctx, model, model.held_out_tests, "held_out_tests",
                                              waits),
            "timeout_seconds": model.timeout_seconds or grading.timeout_seconds,
            "kill_after": model.kill_after,
            "output_limit": model.output_limit or grading.output_limit,
            "markers": {"pass_marker": grading.pass_marker, "fail_marker": grading.fail_marker,
                        "timeout_marker": grading.timeout_marker},
            "protected": list(model.protected), "require_lockdown": model.require_lockdown}

    def _rubric(self, ctx: Context, model: RubricSetSettings,
                waits: tuple[str, ...] = ()) -> Rubric:
        path = self._task_file(ctx, model, model.file, "file", waits)
        sibling = path.parent / JSON_NAME
        if sibling.is_file():  # rubrics.json wins over TASK_DATA.md
            path = sibling
        return load_rubric(path, ctx.workspace.relative(path))

    def _solutions(self, ctx: Context, model: RubricSetSettings,
                   waits: tuple[str, ...] = ()) -> list[Solution]:
        declared = model.solutions
        if declared is None:
            folder = ctx.path(model.task_dir, "task_dir")
            declared = discovered(os.listdir(folder)) if folder.is_dir() else []
        try:
            found = candidates(declared)
        except ValueError as exc:
            raise StepFailed(f"solutions: {exc}", retryable=False) from None
        for solution in found:
            self._task_file(ctx, model, solution.patch or "", "solutions", waits)
        if model.golden is not None:
            self._task_file(ctx, model, model.golden, "golden", waits)
        return columns(found, model.golden, model.original)

    def _task_file(self, ctx: Context, model: RubricSetSettings, rel: str, what: str,
                   waits: tuple[str, ...] = ()) -> Path:
        """A file of the task folder; missing while a dependency (not the pool) that may make
        it (a generated task) is still to be applied: the expansion waits for it."""
        path = ctx.path(str(Path(model.task_dir) / rel), what)
        if path.is_file():
            return path
        missing = f"{what}: {ctx.workspace.relative(path)} does not exist"
        pool = pool_address(ctx, model.pool)
        if any(d != pool for d in waits):
            raise ExpansionDeferred(missing + " yet")
        raise StepFailed(missing, retryable=False)

    def _task_path(self, ctx: Context, model: RubricSetSettings, rel: str | None,
                   what: str = "solutions", waits: tuple[str, ...] = ()) -> str | None:
        if rel is None:
            return None
        return ctx.workspace.relative(self._task_file(ctx, model, rel, what, waits))

    def _write_report(self, ctx: Context, rel: str, outputs: dict[str, Any],
                      children: dict[tuple[str, str], Any], gates: Any) -> dict[str, str]:
        from runner.report.grading_html import render_step

        failed = gates is not None and not gates.ok
        cells = {str(ctx.address.child(c, s)): out for (c, s), out in children.items()
                 if isinstance(out, dict)}
        now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        html = render_step(str(ctx.address), self.name, outputs, cells, failed=failed,
                           generated_at=now, workspace=str(ctx.workspace.root))
        path = ctx.path(rel, "report")
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".partial")
        partial.write_text(html, encoding="utf-8")
        partial.replace(path)  # a reader never sees half a page
        ctx.log(f"wrote the grading report to {rel}")
        return {"path": ctx.workspace.relative(path), "sha256": file_digest(path)}

def pool_address(ctx: Context, pool: str) -> str:
    """A pool step name is a sibling of this step; a dotted one is a full address."""
    if "." in pool:
        return str(parse_address(pool))
    return f"pipeline.{ctx.address.parts[1]}.{pool}"


def _report(ctx: Context, record: Record) -> tuple[Path | None, str | None]:
    report = record.outputs.get("report") if isinstance(record.outputs, dict) else None
    if not isinstance(report, dict) or not report.get("path"):
        return None, None
    return ctx.path(str(report["path"]), "report"), report.get("sha256")

