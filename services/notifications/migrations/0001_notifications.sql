-- Every order event this service has handled, once: the event id is the key, so an event
-- delivered again (a redelivery after a crash, a copy the relay published twice) is seen as
-- done and sends nothing. The e-mail columns hold what was sent, when the event called for one.
CREATE TABLE notifications (
    event_id   uuid        PRIMARY KEY,
    order_id   uuid        NOT NULL,
    kind       text        NOT NULL CHECK (kind IN ('OrderPlaced', 'OrderPaid', 'OrderCancelled', 'OrderShipped', 'OrderDelivered')),
    recipient  text        CHECK (recipient IS NULL OR recipient LIKE '%_@_%'),
    subject    text,
    body       text,
    handled_at timestamptz NOT NULL DEFAULT now(),
    -- An e-mail has all three of its parts or none.
    CHECK ((recipient IS NULL) = (subject IS NULL) AND (subject IS NULL) = (body IS NULL))
);
CREATE INDEX notifications_recent ON notifications (handled_at DESC) WHERE recipient IS NOT NULL;
