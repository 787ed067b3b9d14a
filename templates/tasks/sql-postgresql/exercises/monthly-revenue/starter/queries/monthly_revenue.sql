-- Paid revenue per month of the first half of 2024, in cents: columns month (YYYY-MM) and
-- revenue_cents, one row per month, in order.
SELECT to_char(date_trunc('month', o.placed_at), 'YYYY-MM') AS month,
       SUM(i.unit_price_cents * i.quantity) AS revenue_cents
FROM orders o
JOIN order_items i ON i.order_id = o.id
JOIN shipments s ON s.order_id = o.id
WHERE o.placed_at >= '2024-01-01' AND o.placed_at < '2024-07-01'
GROUP BY 1
ORDER BY 1;
