-- A product is never free: payments refuse a charge of 0, so a free product could be ordered
-- but never paid. NOT VALID keeps rows priced 0 from before this rule loadable (reprice them);
-- every insert and update is checked.
ALTER TABLE products ADD CONSTRAINT products_price_for_sale CHECK (price_minor >= 1) NOT VALID;
