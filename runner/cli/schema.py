"""`taskform schema`: the JSON Schema of every document kind, for editors' YAML plugins."""

from __future__ import annotations

import click

from runner.cli.common import echo_json


@click.command()
def schema() -> None:
    """Print the JSON Schema of taskform spec documents (all kinds, all step types)."""
    from runner.spec.schema import document_schema

    echo_json(document_schema())
