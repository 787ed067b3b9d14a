"""`taskform import <source> ...`: turn another tool's data into spec YAML."""

from __future__ import annotations

from pathlib import Path

import click

from runner.cli.common import App, pass_app


@click.group("import")
def import_() -> None:
    """Convert data from other tools (task-sync, Utkrushta) into taskform specs."""


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
