"""Checks that hold before and after your change: the schema, the seed and the migration load."""

from pg import Database


def test_everything_loads() -> None:
    db = Database()
    try:
        db.load("db/01_schema.sql", "db/02_seed.sql", "migrations/002_constraints.sql")
        assert db.rows("SELECT count(*) FROM products") == [("3",)]
    finally:
        db.stop()
