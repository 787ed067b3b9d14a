"""`taskform graph`: the dependency graph as Graphviz dot or Mermaid."""

from __future__ import annotations

import click

from runner.cli.common import App, pass_app


@click.command()
@click.option("--format", "-format", "fmt", type=click.Choice(["dot", "mermaid"]), default="dot",
              show_default=True, help="Output format.")
@pass_app
def graph(app: App, fmt: str) -> None:
    """Print the dependency graph, expansions included (edges point from a dependency to what
    depends on it)."""
    from runner.graph import Graph
    from runner.planning import recorded_outputs
    from runner.planning.evaluate import Evaluator
    from runner.planning.expand import expand_all
    from runner.spec.load import load_specs
    from runner.state.facts import StoredFacts

    ws = app.workspace
    specs = load_specs(ws)
    with app.session() as (state, connections):
        records = state.records()
        evaluator = Evaluator(ws, connections, recorded_outputs(records), recorded=records,
                              facts=StoredFacts(state))
        resources = expand_all(specs.resources, evaluator)
    g = Graph({a: [str(d) for d in r.depends_on] for a, r in resources.items()})
    labels = {a: r.kind for a, r in resources.items()}
    click.echo(g.to_dot(labels) if fmt == "dot" else g.to_mermaid(labels), nl=False)
