"""examples/docker-pipeline works as its README says: apply, no-op, an ignored file changes
nothing, a changed source file replans exactly the rebuild and what depends on it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from docker_fixtures import DockerWorkspace, clean

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "docker-pipeline"


def test_the_example_validates(ws):
    result = ws.cli("-C", str(EXAMPLE), "validate")
    assert result.output == "Valid: 1 document, 5 resources in 1 file.\n"


@pytest.mark.docker
def test_the_example_sequence(tmp_path, docker_client, ws):
    root = tmp_path / "example"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns(".taskform"))
    ws.root = root
    dws = DockerWorkspace(ws, docker_client)
    try:
        dws.apply()
        assert dws.plan_lines() == ["No changes. 8 resources match the specs."]
        results = dws.outputs("pipeline.greet.check1")["results"]
        assert [(r["label"], r["exit_code"]) for r in results] == [("run", 0), ("tests", 0)]
        assert results[0]["output"] == "Hello, taskform!\n"
        (root / "app/NOTES.md").write_text("edited\n")
        assert dws.plan_lines() == ["No changes. 8 resources match the specs."]
        greet = root / "app/greet.py"
        greet.write_text("# a comment\n" + greet.read_text())
        lines = dws.plan_lines()
        assert [line for line in lines if not line.startswith("      #")] == [
            "  ~ pipeline.greet.check0  (docker_shell, update)",
            "  ~ pipeline.greet.check1  (docker_shell, update)",
            "  ~ pipeline.greet.check2  (docker_shell, update)",
            "  ~ pipeline.greet.image  (docker_build, update)",
            "  ~ pipeline.greet.workers  (docker_pool, update)",
            "  -/+ pipeline.greet.workers[0]  (docker_pool_member, replace)",
            "  -/+ pipeline.greet.workers[1]  (docker_pool_member, replace)",
            "  -/+ pipeline.greet.workers[2]  (docker_pool_member, replace)",
            "Plan: 0 to create, 5 to update, 3 to replace, 0 to destroy, 0 unchanged.",
        ]
        assert "      # file app/greet.py changed" in lines
        dws.apply()
        assert dws.plan_lines() == ["No changes. 8 resources match the specs."]
        result = dws.cli("destroy", "-auto-approve")
        assert result.exit_code == 0, result.output
        assert (dws.labelled("containers"), dws.labelled("volumes"), dws.labelled("images")) \
            == ([], [], [])
    finally:
        clean(docker_client, dws)
