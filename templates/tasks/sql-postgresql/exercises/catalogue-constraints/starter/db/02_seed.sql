INSERT INTO products (sku, name, price_cents, stock) VALUES
    ('BOOK-001', 'The Pragmatic Programmer', 3900, 12),
    ('BOOK-002', 'Designing Data-Intensive Applications', 4500, 3),
    ('MUG-001', 'Mug', 1200, 40);

INSERT INTO order_lines (order_ref, product_id, quantity) VALUES
    ('o-1001', 1, 1),
    ('o-1002', 3, 2);
