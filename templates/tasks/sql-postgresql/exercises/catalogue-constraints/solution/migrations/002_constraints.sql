-- Constraints that keep the catalogue clean (runs after db/01_schema.sql and db/02_seed.sql).
ALTER TABLE products
    ADD CONSTRAINT products_price_not_negative CHECK (price_cents >= 0),
    ADD CONSTRAINT products_stock_not_negative CHECK (stock >= 0);

-- unique whatever the letter case: BOOK-001 and book-001 are the same SKU
CREATE UNIQUE INDEX products_sku_key ON products (lower(sku));

ALTER TABLE order_lines
    ADD CONSTRAINT order_lines_product_fk FOREIGN KEY (product_id)
        REFERENCES products (id) ON DELETE RESTRICT;
