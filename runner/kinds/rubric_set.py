"""`rubric_set` (task-sync's step): grade candidate solutions against a rubric in the containers
of a pool. It expands at plan time into one `rubric_shell` per criterion × solution, addressed
`pipeline.<p>.<step>["<criterion>","<solution>"]`, and applies after them: scores per solution,
the validation gates (failing the step, naming the criteria) and, with `report:`, the HTML page.

docs/grading.md is the user's page and the state contract; `runner/rubric/` does the work that
needs no Docker, and is imported where it is used: a no-op plan of a graded set loads this
module only to observe its report (a sixteenth of that plan went to importing the rest)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runner.address import parse_address
from runner.errors import StepFailed
from runner.kinds.base import (
    BaseKind,
    Child,
    Context,
    Expansion,
    ExpansionDeferred,
    file_digest,
    hash_files,
)
from runner.kinds.rubric_set_settings import RUNTIME_KEYS, RubricSetSettings
from runner.rubric.parse import JSON_NAME, MARKDOWN_NAME
from runner.state.base import Record
from runner.vocabulary import Observation

if TYPE_CHECKING:
    from runner.rubric.model import Rubric
    from runner.rubric.solutions import Solution


class RubricSetKind(BaseKind):
    name = "rubric_set"
    settings_model = RubricSetSettings

    def references(self, settings: RubricSetSettings) -> list[str]:
        """The pool is a dependency, a sibling step or any address: the gradings wait for it,
        and an address that names nothing is a load error."""
        return [settings.pool] if "." in settings.pool else [f"steps.{settings.pool}"]

    def expand(self, ctx: Context, settings: RubricSetSettings,
               expansion: Expansion) -> list[Child] | None:
        from runner.rubric.results import CHILD_KIND
        from runner.rubric.score import GOLDEN

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
        return hash_files(ctx, settings.rubric_files(), "file")

    def expansion_reads(self, settings: Any, dependency: str) -> bool:
        """The criteria and solutions come from files a dependency may write; not the pool."""
        pool = settings.get("pool") if isinstance(settings, dict) else None
        if not isinstance(pool, str):
            return True
        own_pipeline = dependency.rsplit(".", 1)[0]
        return dependency != (pool if "." in pool else f"{own_pipeline}.{pool}")

    def dependency_view(self, ctx: Context, settings: RubricSetSettings, dependency: str,
                        outputs: Any) -> Any:
        from runner.rubric.lease import pool_image_ids

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
        from runner.rubric import score
        from runner.rubric.results import grading_statuses, parent_outputs
        from runner.rubric.score import ORIGINAL, check_gates, score_solution

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
            "protected": list(model.protected), "require_lockdown": model.require_lockdown,
            "isolation": model.isolation, "results": model.results,
            "solution_paths": self._solution_paths(ctx, model, waits)}

    def _solution_paths(self, ctx: Context, model: RubricSetSettings,
                        waits: tuple[str, ...]) -> list[str]:
        if model.solution_paths is not None:
            return list(model.solution_paths)
        if model.golden is None:
            return []
        from runner.rubric.patch_rules import default_solution_paths

        golden = self._task_file(ctx, model, model.golden, "golden", waits)
        return list(default_solution_paths(golden.read_text(encoding="utf-8", errors="replace")))

    def _rubric(self, ctx: Context, model: RubricSetSettings,
                waits: tuple[str, ...] = ()) -> Rubric:
        from runner.rubric.parse import load_rubric

        name = model.file
        if name is None:  # discovered only when not set: an explicit file always wins
            folder = ctx.path(model.task_dir, "task_dir")
            name = JSON_NAME if (folder / JSON_NAME).is_file() else MARKDOWN_NAME
        path = self._task_file(ctx, model, name, "file", waits)
        return load_rubric(path, ctx.workspace.relative(path))

    def _solutions(self, ctx: Context, model: RubricSetSettings,
                   waits: tuple[str, ...] = ()) -> list[Solution]:
        from runner.rubric.solutions import candidates, columns, discovered

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
        from runner.report.grading_file import write_step_report

        path = ctx.path(rel, "report")
        write_step_report(path, address=str(ctx.address), kind=self.name, outputs=outputs,
                          cells={str(ctx.address.child(c, s)): out
                                 for (c, s), out in children.items() if isinstance(out, dict)},
                          failed=gates is not None and not gates.ok,
                          workspace=str(ctx.workspace.root), secrets=ctx.workspace.secrets)
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

