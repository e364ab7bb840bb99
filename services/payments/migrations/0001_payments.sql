-- Charges. Only the card's brand and last four digits are stored: never the number or the
-- CVC. One row per idempotency key: a replayed request finds its first result here.
CREATE TABLE payments (
    id               uuid PRIMARY KEY,
    idempotency_key  text        NOT NULL CHECK (char_length(idempotency_key) BETWEEN 1 AND 255),
    -- SHA-256 of the request's non-secret fields, to refuse a key reused for another request.
    request_hash     text        NOT NULL,
    order_id         uuid        NOT NULL,
    amount_minor     bigint      NOT NULL CHECK (amount_minor > 0),
    currency         char(3)     NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    status           text        NOT NULL CHECK (status IN ('succeeded', 'declined', 'refunded')),
    decline_code     text        CHECK ((status = 'declined') = (decline_code IS NOT NULL)),
    card_brand       text        NOT NULL,
    card_last4       char(4)     NOT NULL CHECK (card_last4 ~ '^[0-9]{4}$'),
    created_at       timestamptz NOT NULL DEFAULT now(),
    refunded_at      timestamptz CHECK ((status = 'refunded') = (refunded_at IS NOT NULL)),
    CONSTRAINT payments_idempotency_key UNIQUE (idempotency_key)
);

CREATE INDEX payments_order ON payments (order_id, created_at);
