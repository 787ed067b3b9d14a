"""A pool spanning engines, without an engine: containers lent from every engine in turn, a lost
engine lending nothing more, one unreachable from the start lost from the start, and the
message when every engine is lost."""

from __future__ import annotations

import threading
from collections import deque

import pytest

from runner.errors import ProviderError, StepFailed, StepTimeout
from runner.providers.call import Call
from runner.rubric.grading import EngineLost
from runner.rubric.lease import Member
from runner.rubric.spanning import Spanning

STOPPING = threading.Event()


class FakePlace:
    """One engine's containers: lent while there are some, `broken` once it gave up."""

    def __init__(self, where: str | None, names: list[str]):
        self.pool, self.where = "pipeline.p.pool", where
        self.free = deque(Member(n, "sha256:img", None, where) for n in names)
        self.broken: str | None = None
        self.released: list[str] = []
        self.discarded: list[str] = []

    def try_acquire(self) -> Member | None:
        if self.broken:
            raise StepFailed(self.broken)
        return self.free.popleft() if self.free else None

    def has_free(self) -> bool:
        return bool(self.free)

    def release(self, member: Member) -> None:
        self.released.append(member.name)
        self.free.append(member)

    def discard(self, owner: object, member: Member, log: object) -> None:
        self.discarded.append(member.name)

    def lose(self, member: Member, why: str) -> bool:
        return False


def spanning(places: dict[str | None, FakePlace], log: list[str] | None = None) -> Spanning:
    lines = log if log is not None else []
    return Spanning("pipeline.p.pool", {w: (lambda p=p: p) for w, p in places.items()},
                    lines.append)


def test_containers_come_from_every_engine_in_turn() -> None:
    local, lab = FakePlace(None, ["l0", "l1"]), FakePlace("lab-1", ["r0", "r1"])
    place = spanning({None: local, "lab-1": lab})
    taken = [place.acquire(Call(), STOPPING) for _ in range(4)]
    assert [(m.name, m.where) for m in taken] == [("l0", None), ("r0", "lab-1"), ("l1", None),
                                                  ("r1", "lab-1")]
    place.release(taken[1])
    place.discard(None, taken[0], print)  # type: ignore[arg-type]
    assert (lab.released, local.discarded) == (["r0"], ["l0"])


def test_a_lost_engine_lends_nothing_more_and_the_others_go_on() -> None:
    local, lab = FakePlace(None, ["l0"]), FakePlace("lab-1", ["r0", "r1"])
    log: list[str] = []
    place = spanning({None: local, "lab-1": lab}, log)
    first = place.acquire(Call(), STOPPING)
    second = place.acquire(Call(), STOPPING)
    assert (first.where, second.where) == (None, "lab-1")
    assert place.lose(second, "the Docker engine of droplet lab-1 no longer answers") is True
    assert place.lose(second, "again") is True  # said once
    assert log == ["engine lab-1 of pool pipeline.p.pool is lost (the Docker engine of droplet "
                   "lab-1 no longer answers): nothing more is graded there in this run"]
    assert place.try_acquire() is None  # r1 is on the lost engine; l0 is out
    place.release(first)
    assert place.acquire(Call(), STOPPING).name == "l0"
    assert place.lose(first, "gone too") is False  # no engine left
    with pytest.raises(StepFailed) as failed:
        place.try_acquire()
    assert failed.value.message == (
        "every engine of pool pipeline.p.pool is lost: lab-1: the Docker engine of droplet lab-1 "
        "no longer answers; local: gone too")
    assert failed.value.retryable is False


def test_an_engine_that_gave_up_starting_sandboxes_is_lost() -> None:
    local, lab = FakePlace(None, []), FakePlace("lab-1", ["r0"])
    lab.broken = "cannot start a fresh sandbox from pool pipeline.p.pool: image missing"
    local.free.append(Member("l0", "sha256:img"))
    place = spanning({None: local, "lab-1": lab})
    first = place.acquire(Call(), STOPPING)  # local's turn
    place.release(first)
    assert place.acquire(Call(), STOPPING).name == "l0"  # lab-1's turn: it gave up
    assert place.lost == {"lab-1": "cannot start a fresh sandbox from pool pipeline.p.pool: "
                                   "image missing"}


def test_an_engine_that_does_not_answer_at_first_is_lost_from_the_start() -> None:
    def unreachable() -> FakePlace:
        raise ProviderError("cannot reach the Docker engine of droplet lab-1: refused")

    def not_answering() -> FakePlace:
        raise EngineLost("the Docker engine of droplet lab-2 does not answer")

    local = FakePlace(None, ["l0"])
    place = Spanning("pipeline.p.pool", {None: lambda: local, "lab-1": unreachable,
                                         "lab-2": not_answering})
    assert place.lost == {"lab-1": "cannot reach the Docker engine of droplet lab-1: refused",
                          "lab-2": "the Docker engine of droplet lab-2 does not answer"}
    assert place.acquire(Call(), STOPPING).name == "l0"


def test_any_other_failure_at_first_is_every_engines_problem() -> None:
    def refused() -> FakePlace:
        raise StepFailed("pool pipeline.p.pool cannot grade untrusted code: ...")

    with pytest.raises(StepFailed, match="cannot grade untrusted code"):
        Spanning("pipeline.p.pool", {None: refused})


def test_waiting_honours_the_deadline() -> None:
    import time

    place = spanning({None: FakePlace(None, []), "lab-1": FakePlace("lab-1", [])})
    with pytest.raises(StepTimeout, match="no container of pool pipeline.p.pool became ready on "
                                          "any of its engines before the step's timeout"):
        place.acquire(Call(deadline=time.monotonic() + 0.2), STOPPING)
