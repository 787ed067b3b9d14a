"""Garbage collection: Docker objects labelled as this workspace's that no state record owns
(a crashed run's containers, old builds, volumes of resources forgotten with `state rm`).
Only objects carrying this workspace's label are ever listed, so only those are ever removed."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from runner.providers.docker import LABEL_ADDRESS, LABEL_REPLACES, LABEL_WORKSPACE, short_id
from runner.state.base import Record
from runner.workspace import Workspace

ORDER = {"container": 0, "volume": 1, "image": 2}  # what uses what: remove users first


@dataclass(frozen=True)
class Orphan:
    what: str      # container | volume | image
    ident: str     # id (container, image) or name (volume)
    name: str
    address: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"type": self.what, "id": self.ident, "name": self.name,
                "address": self.address, "reason": self.reason}


def find_orphans(client: Any, ws: Workspace, records: Mapping[str, Record]) -> list[Orphan]:
    """Every labelled object of this workspace that its address's record does not mention."""
    filters = {"label": f"{LABEL_WORKSPACE}={ws.root}"}
    found: list[tuple[str, str, str, dict[str, str]]] = []
    for c in client.containers.list(all=True, filters=filters):
        found.append(("container", c.id, c.name, c.labels))
    for v in client.volumes.list(filters=filters):
        found.append(("volume", v.name, v.name, v.attrs.get("Labels") or {}))
    for i in client.images.list(all=True, filters=filters):
        found.append(("image", i.id, ", ".join(i.tags) or short_id(i.id), i.labels))
    out = []
    for what, ident, name, labels in found:
        if labels.get(LABEL_WORKSPACE) != str(ws.root):
            continue  # the engine filtered already; never trust a filter with deletion
        address = labels.get(LABEL_ADDRESS, "")
        reason = _unowned(what, ident, address, records, labels.get(LABEL_REPLACES))
        if reason:
            out.append(Orphan(what, ident, name, address, reason))
    return sorted(out, key=lambda o: (ORDER[o.what], o.address, o.name))


def _unowned(what: str, ident: str, address: str, records: Mapping[str, Record],
             replaces: str | None = None) -> str | None:
    record = records.get(address)
    if record is None:
        return f"no state record for {address or '(no address label)'}"
    recorded = json.dumps(record.outputs, default=str)
    if ident in recorded or (replaces and replaces in recorded):
        return None  # the recorded object, or the one that replaced it in place
    return f"{address} records another {what}"


def remove_orphan(client: Any, orphan: Orphan) -> None:
    """Remove one listed orphan (containers forcibly: they are ours and unowned)."""
    import docker

    try:
        if orphan.what == "container":
            client.containers.get(orphan.ident).remove(force=True)
        elif orphan.what == "volume":
            client.volumes.get(orphan.ident).remove()
        else:
            image = client.images.get(orphan.ident)
            for tag in image.tags:
                client.images.remove(tag, noprune=True)
            try:
                client.images.remove(orphan.ident)
            except docker.errors.ImageNotFound:
                pass  # untagging the last tag already deleted it
    except docker.errors.NotFound:
        pass  # gone since it was listed
