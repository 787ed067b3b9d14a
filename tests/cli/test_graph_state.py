"""`taskform graph` only reads: a workspace never applied keeps no state file after it."""

from __future__ import annotations

from tests.cli.test_workflow import write


def test_graph_of_a_workspace_never_applied_creates_no_state(ws):
    write(ws)
    result = ws.cli("graph")
    assert result.exit_code == 0, result.output
    assert '"pipeline.hello.greeting" -> "pipeline.hello.write";' in result.output
    assert not (ws.root / ".taskform" / "state.db").exists()

