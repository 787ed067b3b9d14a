"""A no-op plan imports only what it needs: no Jinja2 when no template renders, no pydantic, no
YAML parser and no kind module when neither taskform.yaml nor a spec changed, no Docker SDK and
no thread pool when nothing is observed, and only the command that runs."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import subprocess_env

PROBE = """
import json, sys
from runner.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
heavy = ("jinja2", "docker", "pydantic", "runner.kinds.value", "runner.spec.documents", "runner.cli.apply",
         "runner.cli.report", "runner.providers.docker.engine", "yaml", "concurrent.futures",
         "socket", "traceback")
print(json.dumps(sorted(m for m in heavy if m in sys.modules)))
"""


def imported(ws, *args: str) -> list[str]:  # type: ignore[no-untyped-def]
    proc = subprocess.run([sys.executable, "-c", PROBE, "-C", str(ws.root), *args],
                          capture_output=True, text=True, env=subprocess_env(), timeout=120)
    assert proc.returncode == 0, proc.stderr
    found: list[str] = json.loads(proc.stdout.splitlines()[-1])
    return found


def test_a_no_op_plan_of_templates_loads_neither_jinja_nor_kinds(ws):
    ws.spec("""
        apiVersion: taskform/v1
        kind: Pipeline
        metadata: {name: p}
        spec:
          steps:
            a: {value: {input: 1}}
            b: {value: {input: "{{ steps.a.value }}-{{ ref('pipeline.p.a').value }}"}}
    """)
    assert ws.cli("apply", "-auto-approve").exit_code == 0
    imported(ws, "plan")  # the first run after apply may fill the spec cache
    assert imported(ws, "plan") == []
    assert imported(ws, "plan", "-refresh=false") == []
