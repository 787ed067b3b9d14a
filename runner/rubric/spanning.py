"""A grading pool that spans several Docker engines (the workspace's own and droplets'): one
place per engine (fresh sandboxes, or members reused), and gradings lent from whichever engine
has a container ready. An engine that stops answering is lost for the rest of the run: nothing
more is lent from it, the gradings that were running on it are graded again on the others, and
only when every engine is lost do gradings fail. An engine that does not answer when the run
first needs it (`EngineLost`, `ProviderError` from its factory) is lost from the start.

What a grading decides never depends on the engine it ran on: the cache key and the
fingerprints name the image (the same id on every engine), not the container."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping

from runner.errors import ProviderError, StepFailed
from runner.providers.call import Call
from runner.providers.docker.labels import Owner
from runner.rubric.grading import EngineLost, Place
from runner.rubric.lease import Member, wait_slice

Log = Callable[[str], None]
POLL_SECONDS = 0.05


def shown(where: str | None) -> str:
    return where or "local"


class Spanning:
    """The places of one pool, by engine name (None: the workspace's own engine); each is
    made on first use by its factory. Satisfies `grading.Place`."""

    def __init__(self, pool: str, places: Mapping[str | None, Callable[[], Place]],
                 log: Log = lambda line: None):
        self.pool, self.log = pool, log
        self._lock = threading.Lock()
        self._places: dict[str | None, Place] = {}
        self._lost: dict[str | None, str] = {}
        self._attempts: Counter[str] = Counter()
        self._turn = 0
        for where, make in places.items():
            try:
                self._places[where] = make()
            except (EngineLost, ProviderError) as exc:  # anything else is every engine's problem
                self._lose(where, exc.message if isinstance(exc, StepFailed) else str(exc))

    @property
    def lost(self) -> dict[str | None, str]:
        with self._lock:
            return dict(self._lost)

    def attempt(self, address: str) -> int:
        with self._lock:
            self._attempts[address] += 1
            return self._attempts[address]

    def has_free(self) -> bool:
        return any(place.has_free() for _, place in self._live())

    def try_acquire(self) -> Member | None:
        """A container ready on any engine still answering, taking the engines in turn."""
        live = self._live()
        if not live:
            raise StepFailed(f"every engine of pool {self.pool} is lost: " + "; ".join(
                f"{shown(w)}: {why}" for w, why in self.lost.items()), retryable=False)
        with self._lock:
            start, self._turn = self._turn, self._turn + 1
        for i in range(len(live)):
            where, place = live[(start + i) % len(live)]
            try:
                member = place.try_acquire()
            except StepFailed as exc:  # it gave up starting sandboxes there
                self._lose(where, exc.message)
                continue
            if member is not None:
                return member
        return None

    def acquire(self, call: Call, stopping: threading.Event) -> Member:
        while (member := self.try_acquire()) is None:
            time.sleep(wait_slice(call, stopping, POLL_SECONDS, f"no container of pool "
                                  f"{self.pool} became ready on any of its engines before the "
                                  "step's timeout"))
        return member

    def release(self, member: Member) -> None:
        self._places[member.where].release(member)

    def discard(self, owner: Owner, member: Member, log: Log) -> None:
        self._places[member.where].discard(owner, member, log)

    def lose(self, member: Member, why: str) -> bool:
        """The engine `member` ran on no longer answers: lend nothing more from it. True when
        another engine is left to grade on."""
        self._lose(member.where, why)
        return bool(self._live())

    def _lose(self, where: str | None, why: str) -> None:
        with self._lock:
            if where in self._lost:
                return
            self._lost[where] = why
        self.log(f"engine {shown(where)} of pool {self.pool} is lost ({why}): nothing more is "
                 "graded there in this run")

    def _live(self) -> list[tuple[str | None, Place]]:
        with self._lock:
            return [(w, p) for w, p in self._places.items() if w not in self._lost]
