-- Accounts. Emails are stored normalised (trimmed, lower-case), so the unique constraint
-- is case-insensitive. Deleting an account deletes the row: no personal data is kept.
CREATE TABLE users (
    id            uuid PRIMARY KEY,
    email         text        NOT NULL CHECK (email = lower(email) AND email LIKE '%_@_%' AND char_length(email) <= 254),
    name          text        NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    -- argon2id PHC string; never returned by the API.
    password_hash text        NOT NULL CHECK (password_hash LIKE '$argon2id$%'),
    -- Registration only creates customers; admins come from the bootstrap settings.
    role          text        NOT NULL CHECK (role IN ('customer', 'admin')),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT users_email_key UNIQUE (email)
);

-- Failed logins per account ('email:<address>') and per client address ('ip:<address>'),
-- counted in a sliding window; shared by every replica because it lives here.
CREATE TABLE login_throttle (
    key               text PRIMARY KEY,
    failures          integer     NOT NULL CHECK (failures >= 0),
    window_started_at timestamptz NOT NULL,
    locked_until      timestamptz
);
