"""Held-out: the monthly revenue query against a real PostgreSQL with the seed data."""

import pytest
from harness_pg import ROOT, Database


@pytest.fixture(scope="module")
def revenue() -> list[tuple[str, ...]]:
    db = Database()
    try:
        db.load("db/01_schema.sql", "db/02_seed.sql")
        return db.rows((ROOT / "queries/monthly_revenue.sql").read_text())
    finally:
        db.stop()


def by_month(rows: list[tuple[str, ...]]) -> dict[str, int]:
    return {month: int(cents) for month, cents in rows}


def test_only_paid_orders_count(revenue: list[tuple[str, ...]]) -> None:
    """Cancelled and refunded orders add nothing: only paid ones count."""
    months = by_month(revenue)
    assert months.get("2024-01") == 2500, "January: order 2 was cancelled"
    assert months.get("2024-05") == 1000, "May: order 5 was refunded"


def test_each_paid_order_counts_once(revenue: list[tuple[str, ...]]) -> None:
    """An order shipped in two parcels counts once, not twice; an unshipped one counts too."""
    months = by_month(revenue)
    assert months.get("2024-02") == 4000, "February: order 3 has two shipments"
    assert months.get("2024-06") == 700, "June: order 7 is paid but not shipped yet"


def test_every_month_is_listed(revenue: list[tuple[str, ...]]) -> None:
    """Every month of the period is listed; a month without sales has 0, it is not missing."""
    assert [row[0] for row in revenue] == ["2024-01", "2024-02", "2024-03", "2024-04",
                                           "2024-05", "2024-06"]
    assert by_month(revenue)["2024-03"] == 0
