"""`taskform show PLANFILE`: a saved plan, as text, Markdown (a pull-request comment) or JSON."""

from __future__ import annotations

from pathlib import Path

import click

from runner.cli.common import App, echo_plan, pass_app, plan_format_options


@click.command()
@click.argument("plan_file", metavar="PLANFILE", type=click.Path(dir_okay=False))
@plan_format_options
@pass_app
def show(app: App, plan_file: str, output_format: str, title: str, as_json: bool) -> None:
    """Show the plan saved in PLANFILE (by `plan -out`) without planning again.

    It needs no state and no workspace: a CI job can render the plan a pull request made.
    Inside a workspace, its secret values are masked once more."""
    from runner import plan_json
    from runner.errors import WorkspaceError
    from runner.planning import redacted
    from runner.redact import Redactor

    saved = plan_json.load(Path(plan_file))
    try:
        secrets = app.workspace.secrets
    except WorkspaceError:  # no taskform.yaml here: the plan was redacted when it was saved
        secrets = []
    echo_plan(redacted(saved, Redactor(secrets)), output_format, as_json, app.color(), title)
