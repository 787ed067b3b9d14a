"""The state contract (contract.py), run against every backend the `harness` fixture knows."""

from __future__ import annotations

from contract import *  # noqa: F403  (the contract's tests, collected here once per backend)
