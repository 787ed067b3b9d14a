"""`taskform scenarios export`: the accepted scenarios as the seed's scenario files."""

from __future__ import annotations

from pathlib import Path

import click

from runner.cli.common import App, echo_json, json_option, pass_app

PROFICIENCIES = ("BEGINNER", "BASIC", "INTERMEDIATE", "ADVANCED")


@click.group()
def scenarios() -> None:
    """The scenarios of scenario sets."""


@scenarios.command("export")
@click.option("--proficiency", "-p", type=click.Choice(PROFICIENCIES, case_sensitive=False),
              help="Only scenario sets at this proficiency.")
@click.option("--output", "-o", "output", default="task_input_files/task_scenarios",
              metavar="DIR", show_default=True,
              help="Folder of the scenario files (relative to the workspace).")
@click.option("--append", is_flag=True,
              help="Merge into the files already there instead of overwriting them.")
@json_option
@pass_app
def export(app: App, proficiency: str | None, output: str, append: bool, as_json: bool) -> None:
    """Write the scenarios of every applied scenario set to the seed's JSON files:
    task_scenarios.json (BEGINNER, BASIC, ADVANCED), task_scenarios_intermediate.json
    (INTERMEDIATE) and task_sceanrio_no_code.json (NON_CODE sets), keyed like
    `Java (BASIC), Kafka (BASIC)`."""
    from runner.content import scenario_files
    from runner.vocabulary import RecordStatus

    with app.session() as (state, _):
        records = state.records()
    found = [scenario_files.from_outputs(a, r.outputs) for a, r in sorted(records.items())
             if r.kind == "scenario_set" and r.status == RecordStatus.OK]
    if proficiency:
        found = [f for f in found if f.proficiency == proficiency.upper()]
    found = [f for f in found if f.scenarios]
    folder = Path(output) if Path(output).is_absolute() else app.workspace.root / output
    written = scenario_files.export(found, folder, append) if found else []
    if as_json:
        echo_json([{"file": str(w.path), "keys": w.keys, "scenarios": w.scenarios,
                    "added": w.added, "sets": w.sets} for w in written])
        return
    if not written:
        click.echo("No applied scenario sets with scenarios" +
                   (f" at {proficiency.upper()}." if proficiency else "."))
        return
    for w in written:
        click.echo(f"Wrote {_shown(app, w.path)}: {w.keys} key(s), {w.scenarios} scenario(s), "
                   f"{w.added} new ({', '.join(w.sets)}).")


def _shown(app: App, path: Path) -> str:
    root = app.workspace.root
    return str(path.relative_to(root)) if path.is_relative_to(root) else str(path)
