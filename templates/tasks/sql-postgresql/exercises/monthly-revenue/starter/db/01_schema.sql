-- The shop's order tables.
CREATE TABLE customers (
    id   serial PRIMARY KEY,
    name text NOT NULL
);

CREATE TABLE orders (
    id          serial PRIMARY KEY,
    customer_id int NOT NULL REFERENCES customers (id),
    placed_at   timestamp NOT NULL,
    status      text NOT NULL CHECK (status IN ('paid', 'cancelled', 'refunded'))
);

CREATE TABLE order_items (
    id               serial PRIMARY KEY,
    order_id         int NOT NULL REFERENCES orders (id),
    product          text NOT NULL,
    unit_price_cents int NOT NULL,
    quantity         int NOT NULL
);

CREATE TABLE shipments (
    id         serial PRIMARY KEY,
    order_id   int NOT NULL REFERENCES orders (id),
    shipped_at timestamp NOT NULL,
    carrier    text NOT NULL
);
