"""`taskform validate`: load and check every spec file, report every problem at once."""

from __future__ import annotations

import click

from runner.cli.common import App, echo_json, json_option, pass_app


@click.command()
@json_option
@pass_app
def validate(app: App, as_json: bool) -> None:
    """Check taskform.yaml and every spec file: syntax, kinds, keys, types, references, cycles,
    the rubric files rubric steps read, and that every competency set has a prompt stack."""
    from runner.content.checks import spec_problems
    from runner.errors import SpecError
    from runner.spec.claims import claim_conflicts
    from runner.spec.load import load_specs
    from runner.spec.rubric_check import rubric_issues

    specs = load_specs(app.workspace)
    issues = claim_conflicts((r, r.settings) for r in specs.resources.values())
    issues += rubric_issues(app.workspace, specs)
    issues += spec_problems(app.workspace, specs.resources)
    if issues:
        raise SpecError(issues)
    kinds: dict[str, int] = {}
    for resource in specs.resources.values():
        kinds[resource.kind] = kinds.get(resource.kind, 0) + 1
    if as_json:
        echo_json({"valid": True, "files": specs.files, "documents": specs.documents,
                   "resources": len(specs.resources), "kinds": kinds})
        return
    click.echo(f"Valid: {specs.documents} document{'s' if specs.documents != 1 else ''}, "
               f"{len(specs.resources)} resource{'s' if len(specs.resources) != 1 else ''} in "
               f"{len(specs.files)} file{'s' if len(specs.files) != 1 else ''}.")
