"""The registry table: every entry names its kind truly, and kinds load only when used."""

from __future__ import annotations

import subprocess
import sys

from runner.kinds.registry import KINDS
from tests.conftest import subprocess_env


def test_every_entry_names_its_kind():
    for name, entry in KINDS.items():
        assert entry.kind.name == name, entry.where


def test_a_plan_imports_only_the_kinds_it_meets(ws):
    ws.spec("""
        apiVersion: taskform/v1
        kind: Pipeline
        metadata: {name: p}
        spec:
          steps:
            a: {value: {input: 1}}
        """)
    code = ("import sys; from runner.cli import main\n"
            "try:\n    main(['-C', sys.argv[1], 'plan'])\n"
            "except SystemExit as exit:\n    print('exit', exit.code)\n"
            "print(sorted(m for m in sys.modules if m.startswith('runner.kinds.')))")
    proc = subprocess.run([sys.executable, "-c", code, str(ws.root)], capture_output=True,
                          text=True, env=subprocess_env())
    assert proc.stdout.splitlines()[-2:] == [
        "exit 0", "['runner.kinds.base', 'runner.kinds.contract', 'runner.kinds.registry', "
                  "'runner.kinds.value']"], \
        proc.stdout + proc.stderr
