"""Free slots while planning: read once per droplet and run, then handed out to the replicas
that need one, deployment after deployment, so a plan whose deployments together need more
slots than their droplets have free fails before anything is applied.

Planning only reads (nothing is claimed here: apply claims on the droplet itself, and two
workspaces planning at once can still both see a free slot; the droplet decides who gets it).
A droplet that cannot be read is left out of the count: its own refresh names it, and
`-refresh=false` means not looking."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from runner.connections import Connections
from runner.deploy import slots
from runner.deploy.endpoint import Droplet, droplet_endpoint, host
from runner.deploy.layout import Layout
from runner.errors import ProviderError
from runner.workspace import Workspace


class Ledger:
    """Free slots per droplet for one plan."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.capacity: dict[str, int] = {}
        self.in_use: dict[str, int] = {}
        self.taken: dict[str, int] = {}
        self.unreadable: set[str] = set()

    def take(self, ws: Workspace, connections: Connections, droplets: Mapping[str, Any],
             count: int) -> int:
        """Hand out `count` slots from these droplets; returns how many are missing (0 when a
        droplet could not be read: the plan cannot tell)."""
        with self._lock:
            for name, outputs in droplets.items():
                if name not in self.capacity and name not in self.unreadable:
                    self._read(ws, connections, Droplet.from_outputs(name, outputs))
            if any(name in self.unreadable for name in droplets):
                return 0
            wanted = count
            for name in droplets:
                free = self.capacity[name] - self.in_use[name] - self.taken.get(name, 0)
                got = max(0, min(free, wanted))
                self.taken[name] = self.taken.get(name, 0) + got
                wanted -= got
            return wanted

    def _read(self, ws: Workspace, connections: Connections, droplet: Droplet) -> None:
        try:
            found = host(ws, connections, droplet_endpoint(ws, droplet))
            with found.files() as files:
                held = slots.holders(files, Layout(droplet.remote_dir))
        except (ProviderError, OSError):
            self.unreadable.add(droplet.name)
            return
        self.capacity[droplet.name] = droplet.capacity
        self.in_use[droplet.name] = sum(1 for n in held if n < droplet.capacity)

    def describe(self, names: list[str]) -> str:
        parts = []
        for name in names:
            taken = self.taken.get(name, 0)
            more = f", {taken} more taken by this plan" if taken else ""
            parts.append(f"{name}: {self.in_use.get(name, 0)} of {self.capacity.get(name, 0)} "
                         f"in use{more}")
        return "; ".join(parts)
