"""Garbage collection: Docker objects labelled as this workspace's that no state record owns
(a crashed run's containers, old builds, volumes of resources forgotten with `state rm`).
Only objects carrying this workspace's label are ever listed, so only those are ever removed."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from runner.providers.docker.engine import DockerEngine
from runner.providers.docker.labels import LABEL_ADDRESS, LABEL_REPLACES, LABEL_WORKSPACE, short_id
from runner.state.base import Record

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


def find_orphans(engine: DockerEngine, workspace: str,
                 records: Mapping[str, Record]) -> list[Orphan]:
    """Every labelled object of the workspace (its folder) that its address's record does not
    mention."""
    filters = {"label": f"{LABEL_WORKSPACE}={workspace}"}
    found: list[tuple[str, str, str, dict[str, str]]] = []
    for c in engine.containers(filters):
        found.append(("container", c.id, c.name, c.labels))
    for v in engine.volumes(filters):
        found.append(("volume", v.name, v.name, v.labels))
    for i in engine.images(filters):
        found.append(("image", i.id, ", ".join(i.tags) or short_id(i.id), i.labels))
    out = []
    for what, ident, name, labels in found:
        if labels.get(LABEL_WORKSPACE) != workspace:
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


def remove_orphan(engine: DockerEngine, orphan: Orphan) -> None:
    """Remove one listed orphan (containers forcibly: they are ours and unowned); one gone
    since it was listed is fine."""
    if orphan.what == "container":
        engine.remove_container(orphan.ident)
    elif orphan.what == "volume":
        engine.remove_volume(orphan.ident)
    else:
        image = engine.image(orphan.ident)
        for tag in image.tags if image else ():
            engine.remove_image(tag, noprune=True)
        engine.remove_image(orphan.ident)  # untagging the last tag may have deleted it
