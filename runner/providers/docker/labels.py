"""What marks a Docker object as taskform's: the labels every object it creates carries, and
the deterministic names it gives them. Only objects carrying a workspace's label are ever
adopted, changed or removed for it."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

LABEL_WORKSPACE = "taskform.workspace"
LABEL_ADDRESS = "taskform.address"
LABEL_CONFIG = "taskform.config-hash"
LABEL_RUN = "taskform.run"
# on a container that replaced a discarded one in place (a grading that timed out): the id the
# resource recorded, so observe, destroy and gc know the replacement as that resource's
LABEL_REPLACES = "taskform.replaces"
# on a fresh grading sandbox (and its volume): the pool whose member it was cloned from
LABEL_SANDBOX = "taskform.sandbox"


@dataclass(frozen=True)
class Owner:
    """Whose an object is: a workspace (its folder), an address in it, the run that made it."""

    workspace: str
    address: str
    run: str = ""

    def labels(self, config_hash: str = "") -> dict[str, str]:
        out = {LABEL_WORKSPACE: self.workspace, LABEL_ADDRESS: self.address, LABEL_RUN: self.run}
        if config_hash:
            out[LABEL_CONFIG] = config_hash
        return out

    def owns(self, labels: Mapping[str, str] | None, *, any_address: bool = False) -> bool:
        """True when `labels` carry this workspace's label (and this address's, unless
        `any_address`)."""
        found = labels or {}
        if found.get(LABEL_WORKSPACE) != self.workspace:
            return False
        return any_address or found.get(LABEL_ADDRESS) == self.address

    def filters(self, *, any_address: bool = False) -> dict[str, list[str]]:
        """The engine's label filter for what this owner made."""
        wanted = [f"{LABEL_WORKSPACE}={self.workspace}"]
        if not any_address:
            wanted.append(f"{LABEL_ADDRESS}={self.address}")
        return {"label": wanted}


def whose(labels: Mapping[str, str] | None) -> str:
    """Who an object belongs to, in words, for a refusal."""
    found = labels or {}
    owner = found.get(LABEL_WORKSPACE)
    if owner:
        return f"it belongs to {found.get(LABEL_ADDRESS)} in workspace {owner}"
    return "it was not created by taskform"


def workspace_tag(workspace: str) -> str:
    """Six hex digits of the workspace path: two workspaces never share a name."""
    return hashlib.sha256(workspace.encode()).hexdigest()[:6]


NAME_WORDS_LIMIT = 60


def object_name(workspace: str, address: str, words: Sequence[str | int],
                suffix: str = "") -> str:
    """A deterministic Docker name: `tf-<words...>[-<suffix>]-<hash>`. The words make it
    readable; the hash (of the workspace, the exact address and the suffix) makes it unique:
    pipeline `a-b` step `c` and pipeline `a` step `b-c` read alike but never collide, and two
    workspaces never share a name."""
    readable = [str(w) for w in words] + ([suffix] if suffix else [])
    base = re.sub(r"[^a-zA-Z0-9_.-]+", "-", "-".join(readable)).strip("-.")[:NAME_WORDS_LIMIT]
    unique = hashlib.sha256("\0".join([workspace, address, suffix]).encode()).hexdigest()[:8]
    return f"tf-{base.rstrip('-.')}-{unique}"


def short_id(image_or_container_id: str) -> str:
    return image_or_container_id.removeprefix("sha256:")[:12]
