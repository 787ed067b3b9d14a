"""`taskform import <source> ...`: turn another tool's data into spec YAML."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from runner.cli.common import App, pass_app


@click.group("import")
def import_() -> None:
    """Convert data from other tools (task-sync, Utkrushta) into taskform specs."""


@import_.command("task-sync")
@click.argument("steps_file", metavar="STEPS.json", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--out", "out_dir", default="specs/tasksync", show_default=True,
              metavar="DIR", help="Where to write one Pipeline file per task (relative to the "
                                  "workspace).")
@click.option("--force", is_flag=True, help="Overwrite files that already exist.")
@pass_app
def task_sync(app: App, steps_file: Path, out_dir: str, force: bool) -> None:
    """Convert task-sync step rows (a JSON array of {id, task_id, title, settings}, e.g. from
    `SELECT json_agg(steps) FROM steps`) into one Pipeline YAML per task. Step names come from
    titles; numeric depends_on ids become those names. Nothing is written if any row fails."""
    import json

    import yaml

    from runner.errors import TaskformError
    from runner.importers.tasksync import convert, read_rows
    from runner.kinds.registry import STEP_TYPES

    try:
        rows = read_rows(steps_file.read_text())
    except OSError as exc:
        raise TaskformError(f"cannot read {steps_file}: {exc.strerror}") from None
    except (ValueError, json.JSONDecodeError) as exc:
        raise TaskformError(f"{steps_file}: {exc}") from None
    result = convert(rows, set(STEP_TYPES), _check)
    for note in result.notes:
        click.echo(f"note: {note}", err=True)
    if result.errors:
        count = len(result.errors)
        raise TaskformError("\n".join([f"{count} problem{'s' if count != 1 else ''} in "
                                       f"{steps_file}; nothing was written:",
                                       *(f"  {e}" for e in result.errors)]))
    target = app.workspace.resolve(out_dir, "--out")
    files = {task: target / f"task-{task}.yaml" for task in result.documents}
    clashes = [str(p) for p in files.values() if p.exists()]
    if clashes and not force:
        raise TaskformError(f"{', '.join(clashes)} already exist{'s' if len(clashes) == 1 else ''}; "
                            "pass --force to overwrite")
    target.mkdir(parents=True, exist_ok=True)
    for task, path in files.items():
        header = f"# Imported from task-sync ({steps_file.name}, task {task}) by taskform.\n"
        path.write_text(header + yaml.safe_dump(result.documents[task], sort_keys=False,
                                                allow_unicode=True, width=100))
        steps = len(result.documents[task]["spec"]["steps"])
        click.echo(f"wrote {app.workspace.relative(path)} ({steps} step{'s' if steps != 1 else ''})")


def _check(kind: str, settings: Any) -> str | None:
    """The kind's own validation, as `taskform validate` will apply it."""
    from pydantic import ValidationError

    from runner.kinds.registry import STEP_TYPES

    try:
        STEP_TYPES[kind].kind.settings_model.model_validate(settings)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        return f"{where + ': ' if where else ''}{first['msg'].removeprefix('Value error, ')}"
    return None


@import_.command("utkrushta")
@click.option("--competencies", "competencies", required=True, metavar="FILE",
              type=click.Path(dir_okay=False, path_type=Path),
              help="competencies JSON: a list of {name, proficiency, description, scope, ...}")
@click.option("--background", "background", required=True, metavar="FILE",
              type=click.Path(dir_okay=False, path_type=Path),
              help="background JSON: {organization: {organization_background}, role_context, ...}")
@click.option("--scenarios", "scenarios", metavar="FILE",
              type=click.Path(dir_okay=False, path_type=Path),
              help="scenarios JSON: {\"Java (BASIC), Kafka (BASIC)\": [scenario, ...], ...}")
@click.option("-o", "--output", "output", default="specs/imported", show_default=True,
              metavar="DIR", help="Folder for the spec file (relative to the workspace).")
@click.option("--name", metavar="NAME", help="Base name of the documents (default: from the "
              "competencies).")
@click.option("--force", is_flag=True, help="Overwrite an existing spec file.")
@pass_app
def utkrushta(app: App, competencies: Path, background: Path, scenarios: Path | None,
              output: str, name: str | None, force: bool) -> None:
    """Convert Utkrushta's competencies, background and scenario files into a spec file:
    Competency and Background documents, a ScenarioSet holding the scenarios stored under the
    competencies' key (matched ignoring case and spacing; a missing key is an error), and a Task."""
    from runner.importers.utkrushta import convert

    imported = convert(competencies, background, scenarios, name, output.rstrip("/"))
    folder = Path(app.workspace_dir) / output
    target = folder / f"{imported.name}.yaml"
    if target.exists() and not force:
        raise click.ClickException(f"{target} exists; pass --force to overwrite it")
    folder.mkdir(parents=True, exist_ok=True)
    target.write_text(imported.text)
    click.echo(f"Wrote {target}: {imported.documents} documents, {imported.scenarios} "
               "scenario(s).")
    for extra, content in imported.extra.items():
        (folder / extra).write_text(content)
        click.echo(f"Wrote {folder / extra}: scenarios that look like templates are kept in a "
                   "file.")
    click.echo("Next: taskform validate && taskform plan")
