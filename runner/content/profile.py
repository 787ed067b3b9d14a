"""How a task is graded and deployed, and what its grading image carries: the stack's choice
for a model's tasks, the scaffold's for the offline provider's (which writes a change plan for
stacks it has no exercises for: graded by review, nothing to deploy)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from runner.content import scaffold, stacks
from runner.errors import TaskformError
from runner.workspace import Workspace


@dataclass(frozen=True)
class Profile:
    grading: str = "tests"     # tests | review
    deploy: str = "none"       # docker | none
    toolchain: str | None = None
    describe: str = "Debian bookworm with git, patch and python3 (no other packages, no network)"
    packages: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    setup: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Profile:
        return cls(**{**data, "packages": tuple(data.get("packages") or ()),
                      "setup": tuple(data.get("setup") or ())})


def profile_of(ws: Workspace, resolution: stacks.Resolution, provider: str,
               scaffold_name: str | None) -> Profile:
    """The stack's profile, or the offline scaffold's when the template provider generates."""
    table, where = stacks.load_table(ws)
    stack = resolution.stack
    grading, deploy, toolchain = stack.grading, stack.deploy, stack.toolchain
    if provider == "template":
        own = scaffold.spec(ws, scaffold_name or stack.scaffold)
        grading, deploy, toolchain = own.grading, own.deploy, own.toolchain or toolchain
    if toolchain is None:
        return Profile(grading=grading, deploy=deploy)
    found = table.toolchains.get(toolchain)
    if found is None:
        raise TaskformError(f"toolchain {toolchain!r} is not declared in {where}; toolchains: "
                            f"{', '.join(table.toolchains) or 'none'}")
    return Profile(grading=grading, deploy=deploy, toolchain=toolchain, describe=found.describe,
                   packages=tuple(found.packages), env=dict(found.env), setup=tuple(found.setup))
