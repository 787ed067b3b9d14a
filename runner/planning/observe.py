"""Refresh: ask each kind that observes what its real thing looks like, in parallel."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from runner.address import parse_address
from runner.errors import ProviderError, TaskformError
from runner.kinds.contract import Can
from runner.kinds.registry import KINDS, kinds_that
from runner.planning.evaluate import Evaluator
from runner.resource import Resource
from runner.state.base import Record
from runner.vocabulary import Observation


def observe_all(records: Iterable[Record], evaluator: Evaluator, resources: Mapping[str, Resource],
                parallelism: int) -> dict[str, Observation]:
    """Ask each kind what the real thing looks like (refresh), in parallel."""
    observing = kinds_that(Can.OBSERVE)
    todo = [r for r in records if r.kind in observing]

    def one(record: Record) -> tuple[str, Observation]:
        resource = resources.get(record.address)
        address = resource.address if resource else parse_address(record.address)
        return record.address, KINDS[record.kind].kind.observe(evaluator.context_at(address),
                                                               record)

    if not todo:
        return {}
    try:
        from concurrent.futures import ThreadPoolExecutor  # only when something is observed

        with ThreadPoolExecutor(max_workers=max(1, min(parallelism, len(todo)))) as pool:
            return dict(pool.map(one, todo))
    except ProviderError:
        raise
    except (TaskformError, OSError) as exc:
        raise ProviderError(f"refresh failed: {exc}") from None
