"""`harness`: a fresh state on each backend the tests know (tests/state_backends.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.register_assert_rewrite("contract")  # imported by test_contract.py: full assert messages

from state_backends import BACKENDS, Harness, harness_for  # noqa: E402

from tests.conftest import needs_backend  # noqa: E402


@pytest.fixture(params=BACKENDS)
def harness(request: pytest.FixtureRequest, tmp_path: Path) -> Harness:
    needs_backend(request, request.param)
    return harness_for(request.param, tmp_path / "ws")
