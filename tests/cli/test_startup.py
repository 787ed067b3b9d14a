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


FREEZE_PROBE = """
import atexit, gc, sys
from runner.cli import main
atexit.register(lambda: print("frozen objects at exit:", gc.get_freeze_count() > 0))
if sys.argv[1] == "entry":
    sys.argv = ["taskform", *sys.argv[2:]]
    main()
else:
    try:
        main(sys.argv[2:])
    except SystemExit as exc:
        print("returned to its caller with", exc.code)
"""


def test_only_the_process_entry_leaves_its_objects_out_of_the_exit_collection(ws):
    """`taskform` itself freezes what it made before Python's exit collection (which would only
    rescan it); a caller that runs main(argv) in its own process keeps its collector as it was."""
    ws.spec("""
        apiVersion: taskform/v1
        kind: Pipeline
        metadata: {name: p}
        spec: {steps: {a: {value: {input: 1}}}}
        """)
    outputs = []
    for how in ("entry", "caller"):
        proc = subprocess.run([sys.executable, "-c", FREEZE_PROBE, how, "-C", str(ws.root),
                               "validate"], capture_output=True, text=True,
                              env=subprocess_env(), timeout=120)
        outputs.append(proc.stdout.splitlines()[-2:])
    assert outputs[0][-1] == "frozen objects at exit: True"
    assert outputs[1] == ["returned to its caller with 0", "frozen objects at exit: False"]
