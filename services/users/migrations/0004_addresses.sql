-- Each account's delivery addresses, so a shopper does not type theirs at every checkout. The
-- rules are the ones orders applies to an order's address (shopkit::address), stated here too.
-- Deleting the account deletes them.
CREATE TABLE addresses (
    id           uuid        PRIMARY KEY,
    user_id      uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    recipient    text        NOT NULL CHECK (char_length(recipient) BETWEEN 1 AND 100),
    line1        text        NOT NULL CHECK (char_length(line1) BETWEEN 1 AND 200),
    line2        text        NOT NULL DEFAULT '' CHECK (char_length(line2) <= 200),
    postal_code  text        NOT NULL CHECK (char_length(postal_code) BETWEEN 1 AND 20),
    city         text        NOT NULL CHECK (char_length(city) BETWEEN 1 AND 100),
    country      char(2)     NOT NULL CHECK (country ~ '^[A-Z]{2}$'),
    last_used_at timestamptz NOT NULL DEFAULT now(),
    -- Saving the same address again refreshes it instead of adding a copy.
    CONSTRAINT addresses_once UNIQUE (user_id, recipient, line1, line2, postal_code, city, country)
);
CREATE INDEX addresses_recent ON addresses (user_id, last_used_at DESC);
