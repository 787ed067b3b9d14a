"""taskform's pytest plugin (`-p taskform_evidence`), installed into the grading sandbox: it
puts each test's node id into the JUnit report (`--junitxml`), keeps the canary test (passed
as an argument) selected whatever `-k` or `-m` say and runs it last, and leaves the canary out
of the exit status: 0 when every other test passed."""

from __future__ import annotations

import os
from collections.abc import Generator
from typing import Any

import pytest

CANARY_ENV = "TASKFORM_CANARY_PYTEST"
_state: dict[str, Any] = {"failed": 0, "canary": None}


def _is_canary(nodeid: str) -> bool:
    name = os.path.basename(os.environ.get(CANARY_ENV, "")).removesuffix(".py")
    return bool(name) and name in nodeid


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_collection_modifyitems(session: Any, config: Any,
                                  items: list[Any]) -> Generator[None, None, None]:
    canary = [item for item in items if _is_canary(item.nodeid)]
    yield
    kept = [item for item in items if not _is_canary(item.nodeid)]
    items[:] = kept + canary  # last, and never deselected
    for item in items:
        item.user_properties.append(("nodeid", item.nodeid))


def pytest_runtest_logreport(report: Any) -> None:
    if report.failed and not _is_canary(report.nodeid):
        _state["failed"] += 1


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: Any, exitstatus: int) -> None:
    if exitstatus == pytest.ExitCode.TESTS_FAILED and not _state["failed"]:
        session.exitstatus = pytest.ExitCode.OK
