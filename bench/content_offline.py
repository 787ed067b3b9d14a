"""Benchmark: offline task generation and publishing at pool scale.

Creates a throwaway workspace with one TaskPool of N tasks (template provider, local bare git
repositories), then times: the first apply (generate, gate, publish N tasks), a no-op plan
(fingerprints, plus refresh: 2 `git ls-remote` per task), and a no-op plan with -refresh=false.

    python bench/content_offline.py [N ...]        (default: 10 50)
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from common import taskform

SPEC = """
apiVersion: taskform/v1
kind: Competency
metadata: {{name: python-fastapi}}
spec: {{name: Python - FastAPI, proficiency: BASIC}}
---
apiVersion: taskform/v1
kind: Background
metadata: {{name: shop}}
spec: {{organization_background: A shop., role_context: Developer}}
---
apiVersion: taskform/v1
kind: TaskPool
metadata: {{name: pool}}
spec:
  competencies: [python-fastapi]
  background: shop
  min_available: {n}
  max_total: {n}
  batch: {n}
"""


def measure(n: int) -> None:
    with tempfile.TemporaryDirectory(prefix="taskform-bench-") as tmp:
        root = Path(tmp)
        (root / "taskform.yaml").write_text("parallelism: 10\n")
        (root / "specs").mkdir()
        (root / "specs" / "pool.yaml").write_text(SPEC.format(n=n))
        apply = taskform(root, "apply", "-auto-approve")
        plan = taskform(root, "plan", "-detailed-exitcode")
        plan_fast = taskform(root, "plan", "-refresh=false")
    print(f"tasks={n:<4} first apply {apply:6.2f}s ({apply / n * 1000:5.0f} ms/task, "
          f"parallelism 10)   no-op plan {plan:5.2f}s   no-op plan -refresh=false "
          f"{plan_fast:5.2f}s")


if __name__ == "__main__":
    for size in [int(a) for a in sys.argv[1:]] or [10, 50]:
        measure(size)
