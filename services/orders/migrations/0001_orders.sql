-- Orders and their lines. Lines snapshot the product's name and unit price when the
-- order was placed, so later catalogue changes never alter an order.
--
-- status: the public lifecycle (pending, paid, shipped, delivered, cancelled) plus two saga
-- stages that clients never see: 'reserving' (created, stock being reserved) and 'failed'
-- (creation failed; its reservation still has to be released before the row is removed).
CREATE TABLE orders (
    id                   uuid PRIMARY KEY,
    user_id              uuid        NOT NULL,
    status               text        NOT NULL CHECK (status IN ('reserving', 'failed', 'pending', 'paid', 'shipped', 'delivered', 'cancelled')),
    currency             char(3)     CHECK (currency ~ '^[A-Z]{3}$'),
    total_minor          bigint      CHECK (total_minor >= 0),
    -- Idempotency-Key of the creating request and a hash of its body.
    idempotency_key      text,
    request_hash         text        NOT NULL,
    -- Key of the payment attempt in flight (or that succeeded), and when it started.
    payment_key          text,
    payment_started_at   timestamptz,
    payment_id           uuid,
    -- Whether the reservation of a cancelled order has been given back.
    stock_released       boolean     NOT NULL DEFAULT false,
    cancel_reason        text,
    expires_at           timestamptz,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT orders_idempotency UNIQUE (user_id, idempotency_key),
    CHECK (status IN ('reserving', 'failed') OR (currency IS NOT NULL AND total_minor IS NOT NULL)),
    CHECK (status NOT IN ('paid', 'shipped', 'delivered') OR payment_id IS NOT NULL),
    CHECK ((status = 'cancelled') = (cancel_reason IS NOT NULL))
);

CREATE TABLE order_lines (
    order_id         uuid    NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    position         integer NOT NULL CHECK (position >= 0),
    product_id       uuid    NOT NULL,
    name             text    NOT NULL,
    unit_price_minor bigint  NOT NULL CHECK (unit_price_minor >= 0),
    quantity         integer NOT NULL CHECK (quantity > 0),
    PRIMARY KEY (order_id, product_id)
);

CREATE INDEX orders_user_newest ON orders (user_id, created_at DESC, id DESC);
CREATE INDEX orders_newest ON orders (created_at DESC, id DESC);
CREATE INDEX orders_expiring ON orders (expires_at) WHERE status = 'pending';
CREATE INDEX orders_to_recover ON orders (updated_at)
    WHERE status IN ('reserving', 'failed') OR payment_key IS NOT NULL OR (status = 'cancelled' AND NOT stock_released);
