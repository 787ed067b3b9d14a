"""Held-out: the migration's constraints, against a real PostgreSQL."""

from collections.abc import Iterator

import pytest
from harness_pg import Database


@pytest.fixture
def db() -> Iterator[Database]:
    database = Database()
    try:
        database.load("db/01_schema.sql", "db/02_seed.sql", "migrations/002_constraints.sql")
        yield database
    finally:
        database.stop()


def refused(db: Database, sql: str, violation: str) -> None:
    result = db.run(sql)
    assert result.returncode != 0, f"accepted: {sql}"
    assert violation in result.stderr, result.stderr


def test_negative_values_are_refused(db: Database) -> None:
    refused(db, "INSERT INTO products (sku, name, price_cents) VALUES ('PEN-1', 'Pen', -1)",
            "violates check constraint")
    refused(db, "UPDATE products SET stock = -2 WHERE sku = 'MUG-001'", "violates check constraint")
    assert db.run("INSERT INTO products (sku, name, price_cents) VALUES ('PEN-1', 'Pen', 0)"
                  ).returncode == 0


def test_duplicate_skus_are_refused_in_any_case(db: Database) -> None:
    refused(db, "INSERT INTO products (sku, name, price_cents) VALUES ('BOOK-001', 'Copy', 100)",
            "violates unique constraint")
    refused(db, "INSERT INTO products (sku, name, price_cents) VALUES ('book-001', 'Copy', 100)",
            "violates unique constraint")


def test_order_lines_reference_products(db: Database) -> None:
    refused(db, "INSERT INTO order_lines (order_ref, product_id, quantity) VALUES ('o-9', 999, 1)",
            "violates foreign key constraint")
    refused(db, "DELETE FROM products WHERE sku = 'BOOK-001'", "violates foreign key constraint")
    assert db.run("DELETE FROM products WHERE sku = 'BOOK-002'").returncode == 0
