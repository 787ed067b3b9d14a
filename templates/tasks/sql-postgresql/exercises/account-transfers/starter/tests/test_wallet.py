"""Checks that hold before and after your change: a valid transfer moves the money."""

from pg import Database


def test_a_valid_transfer_moves_money() -> None:
    db = Database()
    try:
        db.load("db/01_schema.sql", "db/02_seed.sql", "functions/transfer.sql")
        assert db.run("SELECT transfer(1, 3, 2500)").returncode == 0
        assert db.rows("SELECT id, balance_cents FROM accounts ORDER BY id") == [
            ("1", "7500"), ("2", "2500"), ("3", "2500")]
        assert db.rows("SELECT count(*) FROM ledger") == [("1",)]
    finally:
        db.stop()
