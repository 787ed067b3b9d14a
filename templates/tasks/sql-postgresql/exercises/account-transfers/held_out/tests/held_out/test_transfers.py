"""Held-out: transfer() refuses overdrafts, bad amounts and unknown accounts, atomically."""

from collections.abc import Iterator

import pytest
from harness_pg import Database

BEFORE = [("1", "10000"), ("2", "2500"), ("3", "0")]


@pytest.fixture
def db() -> Iterator[Database]:
    database = Database()
    try:
        database.load("db/01_schema.sql", "db/02_seed.sql", "functions/transfer.sql")
        yield database
    finally:
        database.stop()


def refused(db: Database, call: str, message: str) -> None:
    result = db.run(f"SELECT {call}")
    assert result.returncode != 0, f"{call} was accepted"
    assert message in result.stderr, result.stderr
    assert db.rows("SELECT id, balance_cents FROM accounts ORDER BY id") == BEFORE
    assert db.rows("SELECT count(*) FROM ledger") == [("0",)]


def test_overdraft_is_refused(db: Database) -> None:
    refused(db, "transfer(2, 1, 2501)", "insufficient funds")
    refused(db, "transfer(3, 1, 1)", "insufficient funds")


def test_amount_must_be_positive(db: Database) -> None:
    refused(db, "transfer(1, 2, 0)", "amount must be positive")
    refused(db, "transfer(1, 2, -500)", "amount must be positive")


def test_unknown_accounts_are_refused(db: Database) -> None:
    refused(db, "transfer(1, 99, 100)", "unknown account")
    refused(db, "transfer(99, 1, 100)", "unknown account")
