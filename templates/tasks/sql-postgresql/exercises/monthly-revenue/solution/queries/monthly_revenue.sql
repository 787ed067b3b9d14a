-- Paid revenue per month of the first half of 2024, in cents: columns month (YYYY-MM) and
-- revenue_cents, one row per month, in order. Shipments are not joined: an order shipped in
-- two parcels would count twice, and an unshipped one not at all.
WITH months AS (
    SELECT generate_series('2024-01-01'::timestamp, '2024-06-01'::timestamp,
                           interval '1 month') AS month
),
paid AS (
    SELECT date_trunc('month', o.placed_at) AS month,
           SUM(i.unit_price_cents * i.quantity) AS cents
    FROM orders o
    JOIN order_items i ON i.order_id = o.id
    WHERE o.status = 'paid'
      AND o.placed_at >= '2024-01-01' AND o.placed_at < '2024-07-01'
    GROUP BY 1
)
SELECT to_char(m.month, 'YYYY-MM') AS month, COALESCE(p.cents, 0) AS revenue_cents
FROM months m
LEFT JOIN paid p ON p.month = m.month
ORDER BY 1;
