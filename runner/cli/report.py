"""`taskform report [PIPELINE]`: grading results from the state as a table, JSON, Markdown, JUnit
XML or a self-contained HTML page."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from runner.cli.common import App, pass_app

if TYPE_CHECKING:
    from runner.rubric.results import GradingMatrix

FORMATS = ("table", "json", "markdown", "html", "junit")


@click.command()
@click.argument("pipeline", required=False)
@click.option("--format", "-format", "fmt", type=click.Choice(FORMATS), default="table",
              show_default=True, help="Output format.")
@click.option("-o", "--output", "output", metavar="FILE",
              help="Write the report to FILE (folders are created) instead of printing it.")
@pass_app
def report(app: App, pipeline: str | None, fmt: str, output: str | None) -> None:
    """Show rubric grading results: the criteria × solutions matrix with statuses, scores per
    solution, required criteria failed, gates, durations and each grading's output (junit:
    one test case per criterion × solution, for CI).

    PIPELINE is a pipeline name (`user-api`) or an address prefix (`pipeline.user-api.grade`);
    without it, every grading recorded in the state is shown.
    """
    matrices = _select(_load(app), pipeline)
    text = _render(app, matrices, fmt, color=output is None and app.color())
    if output is None:
        click.echo(text, nl=False)
        return
    _write(Path(output), text)
    cells = sum(len(m.cells) for m in matrices)
    click.echo(f"Wrote {output}: {len(matrices)} grading step{'s' if len(matrices) != 1 else ''}"
               f", {cells} grading{'s' if cells != 1 else ''}.")


def _write(path: Path, text: str) -> None:
    blocked = next((p for p in reversed(path.parents) if p.exists() and not p.is_dir()), None)
    if blocked is not None:
        raise click.ClickException(f"cannot write {path}: {blocked} is a file, not a folder")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise click.ClickException(f"cannot write {path}: {exc.strerror}") from None


def _load(app: App) -> list[GradingMatrix]:
    from runner.rubric.results import matrices

    with app.session() as (state, _):
        records = state.records()
    return matrices(records)


def _select(found: list[GradingMatrix], pipeline: str | None) -> list[GradingMatrix]:
    from runner.address import parse_address

    if not found:
        raise click.ClickException("no grading results in the state: apply a pipeline with a "
                                   "rubric_set or dynamic_rubric step first")
    if pipeline is None:
        return found
    text = pipeline if "." in pipeline or "[" in pipeline else f"pipeline.{pipeline}"
    try:
        pattern = parse_address(text)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="PIPELINE") from None
    chosen = [m for m in found if parse_address(m.address).matches(pattern)]
    if not chosen:
        raise click.ClickException(f"no grading results under {text}; recorded: "
                                   + ", ".join(m.address for m in found))
    return chosen


def _render(app: App, matrices: list[GradingMatrix], fmt: str, color: bool) -> str:
    from runner.report import grading

    if fmt == "json":
        return grading.render_json(matrices)
    if fmt == "markdown":
        return grading.render_markdown(matrices)
    if fmt == "junit":
        from runner.report.grading_junit import render_junit

        return render_junit(matrices)
    if fmt == "html":
        from runner.report.grading_html import render_html

        now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        return render_html(matrices, generated_at=now, workspace=str(app.workspace.root))
    return grading.render_table(matrices, color=color)
