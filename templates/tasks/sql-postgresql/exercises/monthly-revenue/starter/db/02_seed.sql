-- The first half of 2024. March has no orders; order 3 went out in two parcels; order 7 is not
-- shipped yet.
INSERT INTO customers (name) VALUES ('Ada'), ('Grace'), ('Linus');

INSERT INTO orders (id, customer_id, placed_at, status) VALUES
    (1, 1, '2024-01-05 10:00', 'paid'),
    (2, 2, '2024-01-20 16:30', 'cancelled'),
    (3, 3, '2024-02-11 09:15', 'paid'),
    (4, 1, '2024-04-02 12:00', 'paid'),
    (5, 2, '2024-05-09 18:45', 'refunded'),
    (6, 3, '2024-05-23 08:05', 'paid'),
    (7, 1, '2024-06-28 21:10', 'paid');

INSERT INTO order_items (order_id, product, unit_price_cents, quantity) VALUES
    (1, 'mug', 1000, 2), (1, 'coaster', 500, 1),
    (2, 'teapot', 3000, 1),
    (3, 'mug', 1000, 4),
    (4, 'kettle', 1500, 1),
    (5, 'teapot', 2000, 1),
    (6, 'mug', 1000, 1),
    (7, 'coaster', 350, 2);

INSERT INTO shipments (order_id, shipped_at, carrier) VALUES
    (1, '2024-01-06 08:00', 'DHL'),
    (2, '2024-01-21 08:00', 'DHL'),
    (3, '2024-02-12 08:00', 'UPS'),
    (3, '2024-02-14 08:00', 'UPS'),
    (4, '2024-04-03 08:00', 'DHL'),
    (5, '2024-05-10 08:00', 'DHL'),
    (6, '2024-05-24 08:00', 'UPS');

SELECT setval('orders_id_seq', 7);
