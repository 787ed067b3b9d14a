"""Checks that hold before and after your change: the database loads and the query runs."""

from pathlib import Path

from pg import ROOT, Database


def test_the_query_runs() -> None:
    db = Database()
    try:
        db.load("db/01_schema.sql", "db/02_seed.sql")
        rows = db.rows((ROOT / "queries/monthly_revenue.sql").read_text())
        assert rows and all(len(row) == 2 for row in rows)
    finally:
        db.stop()


def test_the_seed_has_seven_orders() -> None:
    assert Path(ROOT / "db/02_seed.sql").read_text().count("'2024-") >= 7
