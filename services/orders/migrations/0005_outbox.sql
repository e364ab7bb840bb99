-- Events of the orders' lives, written by the statement that changes the order (a CTE), so an
-- order never changes without its event nor an event exists without its change. A relay reads
-- the unpublished ones in order and marks them published; consumers deduplicate on `id`.
-- payload: a JSON object (order_id, user_id, status, total, currency, cancel_reason).
-- traceparent: the W3C trace context of the request that made the change, so the consumers'
-- work joins that trace.
CREATE TABLE outbox (
    id           uuid        PRIMARY KEY,
    order_id     uuid        NOT NULL,
    kind         text        NOT NULL CHECK (kind IN ('OrderPlaced', 'OrderPaid', 'OrderCancelled', 'OrderShipped', 'OrderDelivered')),
    payload      text        NOT NULL CHECK (json_typeof(payload::json) = 'object'),
    traceparent  text,
    created_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    published_at timestamptz
);
CREATE INDEX outbox_unpublished ON outbox (created_at, id) WHERE published_at IS NULL;
