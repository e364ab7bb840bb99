-- Server-side sessions. The browser holds only an opaque random id in a cookie; the row is
-- keyed by its SHA-256, so a copy of this table does not hand out live sessions. The user's
-- access token stays here and never reaches the page.
CREATE TABLE sessions (
    id_hash          bytea       PRIMARY KEY CHECK (octet_length(id_hash) = 32),
    csrf_token       text        NOT NULL CHECK (char_length(csrf_token) >= 32),
    user_id          uuid,
    user_name        text,
    user_role        text        CHECK (user_role IN ('customer', 'admin')),
    access_token     text,
    token_expires_at timestamptz,
    -- One notice shown on the next page view ("Added to your cart").
    flash            text,
    -- W3C traceparent of the purchase in progress (checkout -> pay), so its page views form one trace.
    purchase_trace   text,
    purchase_started timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    expires_at       timestamptz NOT NULL,
    -- A logged-in session has all of its user fields, a guest session none.
    CHECK ((user_id IS NULL) = (access_token IS NULL)
       AND (user_id IS NULL) = (user_role IS NULL)
       AND (user_id IS NULL) = (token_expires_at IS NULL))
);
CREATE INDEX sessions_expiry ON sessions (expires_at);

-- A cart belongs to a guest session or to a user, never both; a guest's cart is merged into
-- the user's cart at log-in. Prices are not stored: the cart shows the catalogue's current ones.
CREATE TABLE carts (
    id         uuid        PRIMARY KEY,
    session_id bytea       UNIQUE REFERENCES sessions (id_hash) ON DELETE CASCADE,
    user_id    uuid        UNIQUE,
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK ((session_id IS NULL) <> (user_id IS NULL))
);

CREATE TABLE cart_items (
    cart_id    uuid        NOT NULL REFERENCES carts (id) ON DELETE CASCADE,
    product_id uuid        NOT NULL,
    quantity   integer     NOT NULL CHECK (quantity BETWEEN 1 AND 99),
    added_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (cart_id, product_id)
);
