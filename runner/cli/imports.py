"""`taskform import <source> ...`: turn another tool's data into spec YAML."""

from __future__ import annotations

import click


@click.group("import")
def import_() -> None:
    """Convert data from other tools (task-sync, Utkrushta) into taskform specs."""
