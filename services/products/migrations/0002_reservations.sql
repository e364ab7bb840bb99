-- Stock held for orders. One reservation per order id; its lines say how many units of
-- each product the order holds. Releasing keeps the row (status 'released') so that a
-- late or retried reserve call for the same order cannot take stock again.
CREATE TABLE reservations (
    order_id   uuid PRIMARY KEY,
    status     text        NOT NULL CHECK (status IN ('active', 'released')),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE reservation_lines (
    order_id   uuid    NOT NULL REFERENCES reservations (order_id) ON DELETE CASCADE,
    product_id uuid    NOT NULL REFERENCES products (id),
    quantity   integer NOT NULL CHECK (quantity > 0),
    PRIMARY KEY (order_id, product_id)
);

CREATE INDEX reservation_lines_product ON reservation_lines (product_id);
