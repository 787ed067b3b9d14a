"""Leases on a droplet: slot n is held while `<remote_dir>/.taskform/slots/<n>/` exists.

A lease is claimed by writing its holder.json into a fresh temporary folder and renaming that
folder to the slot's path (SFTP's posix-rename, rename(2) on the host): the rename either makes
the slot, whole, or fails because the slot exists. No lock, no window in which a slot exists
without its holder, and two claimers, even from two workspaces with states of their own, can
never both hold one slot. A lease is released by renaming the slot away (atomically, so no one
sees it half removed), then removing it. A lease is never taken from its holder automatically:
a holder that is gone for good is freed by hand (`taskform deployments free`)."""

from __future__ import annotations

import json
import posixpath
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from runner.deploy.layout import Layout
from runner.providers.ssh import RemoteFiles


@dataclass(frozen=True)
class Holder:
    """Who holds a slot (holder.json); `lease` is what the holder knows itself by."""

    slot: int
    lease: str
    address: str = ""
    workspace: str = ""
    host: str = ""
    run: str = ""
    since: str = ""
    directory: str = ""

    @classmethod
    def read(cls, slot: int, data: bytes | None) -> Holder:
        try:
            raw: Any = json.loads(data or b"")
        except ValueError:
            raw = None
        if not isinstance(raw, dict):
            return cls(slot, lease="", address="(a lease without a readable holder.json)")
        return cls(slot, **{k: str(raw.get(k) or "") for k in (
            "lease", "address", "workspace", "host", "run", "since", "directory")})

    def as_json(self) -> bytes:
        fields = {k: getattr(self, k) for k in ("lease", "address", "workspace", "host", "run",
                                                  "since", "directory")}
        return json.dumps(fields, indent=2).encode() + b"\n"

    def describe(self) -> str:
        where = f" in workspace {self.workspace}" if self.workspace else ""
        host = f" on {self.host}" if self.host else ""
        return f"{self.address}{where}{host} since {self.since or '?'} (run {self.run or '?'})"


def holders(files: RemoteFiles, layout: Layout) -> dict[int, Holder]:
    """Every slot held on the droplet (slots beyond the capacity too), by number."""
    names = files.listdir(layout.slots) or []
    return {int(n): Holder.read(int(n), files.read(layout.holder(int(n))))
            for n in names if n.isdigit()}


def held_by(found: dict[int, Holder], lease: str) -> int | None:
    return next((n for n, h in sorted(found.items()) if h.lease == lease), None)


def claim(files: RemoteFiles, layout: Layout, holder: Holder, capacity: int,
          prefer: Iterable[int] = ()) -> int | None:
    """The slot `holder.lease` holds, or a free one now claimed for it (preferred slots
    first); None when every slot below `capacity` is held."""
    found = holders(files, layout)
    mine = held_by(found, holder.lease)
    if mine is not None:
        return mine
    order = [n for n in prefer if 0 <= n < capacity] + list(range(capacity))
    files.mkdirs(layout.tmp)
    files.mkdirs(layout.slots)
    for n in dict.fromkeys(order):
        if n in found:
            continue
        tmp = posixpath.join(layout.tmp, f"claim-{uuid.uuid4().hex[:12]}")
        files.mkdirs(tmp)
        files.write(posixpath.join(tmp, "holder.json"), _with_slot(holder, n).as_json())
        if files.rename(tmp, layout.slot(n)):
            return n
        _discard(files, tmp)  # another claimer made slot n first
    return None


def verify(files: RemoteFiles, layout: Layout, slot: int, lease: str) -> Holder | None:
    """Who holds `slot` when it is not `lease` (None: the lease is still ours)."""
    holder = Holder.read(slot, files.read(layout.holder(slot)))
    if holder.lease == lease:
        return None
    if not files.exists(layout.slot(slot)):
        return Holder(slot, lease="", address="(nobody: the slot is free)")
    return holder


def release(files: RemoteFiles, layout: Layout, lease: str, slot: int | None = None) -> int | None:
    """Give up the slot `lease` holds (only if it holds it); returns the slot released."""
    found = holders(files, layout)
    n = held_by(found, lease)
    if n is None or (slot is not None and n != slot):
        return None
    free(files, layout, n)
    return n


def free(files: RemoteFiles, layout: Layout, slot: int) -> None:
    """Remove a slot whoever holds it: renamed away first, so it vanishes at once."""
    files.mkdirs(layout.tmp)
    gone = posixpath.join(layout.tmp, f"released-{uuid.uuid4().hex[:12]}")
    if files.rename(layout.slot(slot), gone):
        _discard(files, gone)


def _discard(files: RemoteFiles, folder: str) -> None:
    for name in files.listdir(folder) or []:
        files.remove(posixpath.join(folder, name))
    files.rmdir(folder)


def _with_slot(holder: Holder, slot: int) -> Holder:
    return Holder(slot, holder.lease, holder.address, holder.workspace, holder.host, holder.run,
                  holder.since, holder.directory)
