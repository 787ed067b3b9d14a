"""Leases across workspaces: two workspaces with states of their own share one droplet of
capacity 1 and apply at once; the droplet hands its slot to one of them, every time."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from droplet_fixtures import Lab

pytestmark = [pytest.mark.ssh, pytest.mark.slow]
REPO = Path(__file__).resolve().parents[2]
WEB = ("apiVersion: taskform/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n"
       "  source: {dir: app}\n  pool: {labels: {region: lab}}\n  timeout: 30s\n")


def start(root: Path, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "NO_COLOR": "1", "PYTHONPATH": str(REPO)}
    return subprocess.Popen([sys.executable, "-m", "runner", "-C", str(root), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)


def test_two_workspaces_applying_at_once_never_both_hold_the_slot(lab: Lab, tmp_path) -> None:  # type: ignore[no-untyped-def]
    other_ws = type(lab.ws)(tmp_path / "other")
    other_ws.root.mkdir()
    (other_ws.root / "taskform.yaml").write_text("")
    labs = [lab, Lab(other_ws, lab.fleet, lab.remote)]  # one droplet folder: one machine
    for each in labs:
        each.app()
        each.spec(each.droplet(0, "shared") + "---\n" + WEB)
    slots = lab.remote / "shared" / ".taskform" / "slots"
    winners = []
    try:
        for _ in range(50):
            runs = [start(each.root, "apply", "-auto-approve") for each in labs]
            codes = [run.wait(timeout=300) for run in runs]
            outs = [run.stdout.read() if run.stdout else "" for run in runs]
            held = sorted(p.name for p in slots.iterdir()) if slots.exists() else []
            assert held == ["0"], outs
            holder = json.loads((slots / "0" / "holder.json").read_text())
            winner = [str(each.root) for each in labs].index(holder["workspace"])
            assert codes[winner] == 0 and codes[1 - winner] == 1, outs
            assert "no free slot" in outs[1 - winner] or "0 free slot(s)" in outs[1 - winner]
            winners.append(winner)
            gone = [start(each.root, "destroy", "-auto-approve") for each in labs]
            assert [run.wait(timeout=300) for run in gone] == [0, 0]
            assert sorted(p.name for p in slots.iterdir()) == []
    finally:
        labs[1].ws.cli("destroy", "-auto-approve")
    assert len(winners) == 50
