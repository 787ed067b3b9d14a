-- The catalogue tables, as the first migration created them.
CREATE TABLE products (
    id          serial PRIMARY KEY,
    sku         text NOT NULL,
    name        text NOT NULL,
    price_cents int NOT NULL,
    stock       int NOT NULL DEFAULT 0
);

CREATE TABLE order_lines (
    id         serial PRIMARY KEY,
    order_ref  text NOT NULL,
    product_id int NOT NULL,
    quantity   int NOT NULL
);
