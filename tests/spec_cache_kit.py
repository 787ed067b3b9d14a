"""What the spec cache's tests share: a valid spec, a spec JSON cannot keep as validated, and
where an entry of a spec file lives (anyone can compute it)."""

from __future__ import annotations

from pathlib import Path

from runner.spec.cachestore import entry_name

VALID = """
    apiVersion: taskform/v1
    kind: Pipeline
    metadata: {name: p}
    spec:
      steps:
        a: {value: {input: 1}}
        b: {value: {input: 2}, depends_on: [a]}
    """
VALID_OUTPUT = "Valid: 1 document, 2 resources in 1 file.\n"
# a mapping JSON would give back with another key: never kept as validated
UNKEEPABLE = """
    apiVersion: taskform/v1
    kind: Pipeline
    metadata: {name: p}
    spec:
      steps:
        a: {value: {input: "{{ {1: 'one'} }}"}}
    """


def entry(ws, layer: str, spec: Path) -> Path:  # type: ignore[no-untyped-def]
    """Where the `layer` entry of the workspace's spec file `spec` lives."""
    display = spec.relative_to(ws.root).as_posix().encode()
    parts = [spec.read_bytes(), display] if layer == "loaded" else [spec.read_bytes()]
    return ws.root / ".taskform" / "cache" / "specs" / entry_name(layer, *parts)
