"""Spec text shared by the content tests."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

# tasks are published, and their patches made, with the real git
needs_git = pytest.mark.skipif(shutil.which("git") is None,
                               reason="git is not installed (scripts/setup.sh installs it)")

COMPETENCIES = """
apiVersion: taskform/v1
kind: Competency
metadata: {name: python-fastapi}
spec: {name: Python - FastAPI, proficiency: BASIC, competency_id: c-fastapi}
---
apiVersion: taskform/v1
kind: Competency
metadata: {name: java}
spec: {name: Java, proficiency: BASIC}
---
apiVersion: taskform/v1
kind: Competency
metadata: {name: kafka}
spec: {name: Kafka, proficiency: BASIC}
---
apiVersion: taskform/v1
kind: Background
metadata: {name: shop}
spec:
  organization_background: A start-up building e-commerce services.
  role_context: Backend Developer
  yoe: 1-3 years
"""

# a technology no stack of the shipped table covers: plan and validate refuse it
RUST = """
apiVersion: taskform/v1
kind: Competency
metadata: {name: rust}
spec: {name: Rust, proficiency: BASIC}
"""

SCENARIO = ("**Current Implementation:** The catalogue API written with Python - FastAPI returns "
            "every product in one response, so the 12,000-item catalogue takes 6 seconds to load "
            "and mobile clients time out; it also stores invalid products.\\n\\n**Your Task:** "
            "Add limit and offset paging with bounds checks, keep the total count in the "
            "response, and validate new products.\\n\\n**Success Criteria:** Any page of at "
            "most 100 items loads in under 200 ms and no invalid product is stored.")


def clone(bare: Path, into: Path) -> Path:
    """A real clone of a published repository."""
    subprocess.run(["git", "clone", "-q", str(bare), str(into)], check=True,
                   capture_output=True)
    return into


def files_of(checkout: Path) -> set[str]:
    return {str(p.relative_to(checkout)) for p in checkout.rglob("*")
            if p.is_file() and ".git" not in p.relative_to(checkout).parts}
