"""`taskform tasks list`: the task catalogue, from the state."""

from __future__ import annotations

from typing import Any

import click

from runner.cli.common import App, echo_json, json_option, pass_app


@click.group()
def tasks() -> None:
    """The generated assessment tasks."""


@tasks.command("list")
@click.option("--competency", "-c", metavar="NAME",
              help="Only tasks for this competency (its name or its document name).")
@click.option("--status", "-s", type=click.Choice(["ready", "deployed", "failed", "skipped"]),
              help="Only tasks in this state.")
@json_option
@pass_app
def list_(app: App, competency: str | None, status: str | None, as_json: bool) -> None:
    """List recorded tasks: ready (generated, gates passed, not deployed), deployed or failed
    (with the reasons), their competencies and repositories."""
    from runner.content.catalogue import entries, matches

    with app.session() as (state, _):
        records = state.records()
    rows = [e for e in entries(records, _spec_settings(app)) if matches(e, competency, status)]
    if as_json:
        echo_json([e.as_dict() for e in rows])
        return
    if not rows:
        click.echo("No tasks recorded" + (" that match." if competency or status else "."))
        return
    width = max(len(e.address) for e in rows)
    for e in rows:
        where = e.starter or "-"
        graded = "  (graded by review)" if e.grading == "review" else ""
        click.echo(f"{e.address:<{width}}  {e.status:<8}  {', '.join(e.competencies):<28}  "
                   f"{where}{graded}")
        if e.reason:
            click.echo("    " + e.reason.replace("\n", "\n    "))
    counts = {s: sum(1 for e in rows if e.status == s) for s in ("ready", "deployed", "failed")}
    click.echo(f"{len(rows)} task(s): " + ", ".join(f"{n} {s}" for s, n in counts.items()))


def _spec_settings(app: App) -> dict[str, Any]:
    """Settings of Task and TaskPool documents, for failed tasks that recorded none; the
    catalogue still works when the specs do not load."""
    from runner.errors import TaskformError
    from runner.spec.load import load_specs

    try:
        specs = load_specs(app.workspace)
    except TaskformError:
        return {}
    return {str(a): r.settings for a, r in specs.resources.items()
            if r.kind in ("task", "task_pool") and isinstance(r.settings, dict)}
