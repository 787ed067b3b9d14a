"""`taskform graph`: the dependency graph as Graphviz dot or Mermaid."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import click

from runner.cli.common import App, pass_app

if TYPE_CHECKING:
    from runner.connections import Connections
    from runner.state.base import Facts, Record


@click.command()
@click.option("--format", "-format", "fmt", type=click.Choice(["dot", "mermaid"]), default="dot",
              show_default=True, help="Output format.")
@pass_app
def graph(app: App, fmt: str) -> None:
    """Print the dependency graph, expansions included (edges point from a dependency to what
    depends on it)."""
    from runner.graph import Graph
    from runner.planning.evaluate import Evaluator, RecordedOutputs
    from runner.planning.expand import expand_all
    from runner.spec.load import load_specs

    ws = app.workspace
    specs = load_specs(ws)
    with _read_only_state(app) as (records, facts, connections):
        evaluator = Evaluator(ws, connections, RecordedOutputs(records), recorded=records,
                              facts=facts)
        resources = expand_all(specs.resources, evaluator)
    g = Graph({a: [str(d) for d in r.depends_on] for a, r in resources.items()})
    labels = {a: r.kind for a, r in resources.items()}
    click.echo(g.to_dot(labels) if fmt == "dot" else g.to_mermaid(labels), nl=False)


@contextmanager
def _read_only_state(app: App) -> Iterator[tuple[dict[str, Record], Facts, Connections]]:
    """The recorded state, when there is one. A workspace never applied has no state file, and
    graph only reads: it must not create one (opening SQLite would)."""
    from runner.connections import Connections
    from runner.state.base import MemoryFacts
    from runner.state.facts import StoredFacts

    ws = app.workspace
    if ws.config.state.backend == "sqlite" and \
            not ws.resolve(ws.config.state.path, "state.path").exists():
        connections = Connections()
        try:
            yield {}, MemoryFacts(), connections
        finally:
            connections.close()
        return
    with app.session() as (state, connections):
        yield state.records(), StoredFacts(state), connections
