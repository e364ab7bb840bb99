-- Failed logins are now counted per account-and-address ('login:<email>|<address>'), per address
-- ('ip:<address>') and per account over all addresses ('email:<email>', a far higher limit), so
-- someone guessing a shopper's password locks out their own address, not the shopper.
--
-- The addresses each account has logged in from successfully: from these, the account-wide
-- lock does not apply, so even a guess spread over many addresses cannot lock the owner out of
-- the places they use. Kept 90 days after the last success.
CREATE TABLE login_addresses (
    user_id       uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    address       text        NOT NULL CHECK (char_length(address) BETWEEN 1 AND 64),
    last_login_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, address)
);
