"""examples/droplets works as its README says, against the test droplets: apply, two ready
replicas on two droplets, claim, release, redeploy, destroy."""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path

import pytest
from doubles.content import needs_git
from droplet_fixtures import Fleet

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "droplets"


def test_the_example_validates(ws) -> None:  # type: ignore[no-untyped-def]
    result = ws.cli("-C", str(EXAMPLE), "validate")
    assert result.output == "Valid: 7 documents, 9 resources in 4 files.\n"


@pytest.mark.ssh
@needs_git
def test_the_example_sequence(tmp_path, ws, fleet: Fleet) -> None:  # type: ignore[no-untyped-def]
    root = tmp_path / "example"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns(".taskform"))
    remote = Path(f"/tmp/tf-example-{uuid.uuid4().hex[:8]}")
    # the two droplets are one machine here: give each its own folder, as two machines have
    droplets = root / "specs" / "droplets.yaml"
    text = droplets.read_text().split("---\n")
    droplets.write_text("---\n".join(
        part.replace("{{ var.remote_dir }}", f"{{{{ var.remote_dir }}}}/{name}")
        for part, name in zip(text, ("lab-1", "lab-2"), strict=True)))
    with (root / "known_hosts").open("a") as fh:
        for sshd in fleet.droplets[:2]:
            fh.write(f"[{sshd.address}]:{sshd.port} {sshd.host_key}\n")
    env = {"DROPLET_KEY": fleet.key_text, "REMOTE_DIR": str(remote),
           "LAB1_ADDRESS": fleet[0].address, "LAB1_PORT": str(fleet[0].port),
           "LAB2_ADDRESS": fleet[1].address, "LAB2_PORT": str(fleet[1].port)}
    ws.root = root

    def run(*args: str) -> str:
        result = ws.cli(*args, env=env)
        assert result.exit_code == 0, result.output
        return str(result.output)

    try:
        # the grading pipeline (lab-1's Docker engine) has tests of its own:
        # test_droplets_grading.py
        run("apply", "-auto-approve", "-exclude", "pipeline.grading")
        rows = json.loads(run("deployments", "list", "--json"))
        assert [(r["address"], r["status"], r["droplet"]) for r in rows] == [
            ("deployment.parcels-api[0]", "ready", "lab-1"),
            ("deployment.parcels-api[1]", "ready", "lab-2")]
        readme = Path(rows[0]["directory"]) / "README.md"
        assert "Task Overview" in readme.read_text()
        assert fleet.key_text not in (root / ".taskform/state.db").read_bytes().decode(
            "utf-8", "replace")
        got = json.loads(run("deployments", "claim", "parcels-api", "--holder", "cand-42",
                             "--json"))
        assert (got["address"], got["holder"]) == ("deployment.parcels-api[0]", "cand-42")
        run("deployments", "release", "parcels-api", "--holder", "cand-42")
        assert not readme.exists()
        run("apply", "-auto-approve", "-exclude", "pipeline.grading")
        assert readme.exists()
        assert "No changes." in run("plan", "-exclude", "pipeline.grading")
    finally:
        destroyed = ws.cli("destroy", "-auto-approve", env=env)
        left = sorted(str(p.relative_to(remote)) for p in remote.glob("*/.taskform/slots/*"))
        deployed = sorted(str(p.relative_to(remote)) for p in remote.glob("*/deployments/*"))
        shutil.rmtree(remote, ignore_errors=True)
    assert (destroyed.exit_code, left, deployed) == (0, [], [])
