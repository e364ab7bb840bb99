-- Refresh tokens: opaque random strings handed out at log-in, each exchanged once for a new
-- access token and a new refresh token (rotation). Only their SHA-256 is kept, so a copy of
-- this table logs nobody in. The tokens descending from one log-in form a family: a token
-- presented again after its exchange has been copied, and the whole family is revoked.
CREATE TABLE refresh_tokens (
    token_hash bytea       PRIMARY KEY CHECK (octet_length(token_hash) = 32),
    family_id  uuid        NOT NULL,
    -- Deleting the account deletes its tokens: nothing can be refreshed for it afterwards.
    user_id    uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    issued_at  timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    -- When it was exchanged for its successor.
    used_at    timestamptz,
    -- When it was revoked (log-out, reuse of a family member).
    revoked_at timestamptz,
    CHECK (expires_at > issued_at),
    CHECK (used_at IS NULL OR used_at >= issued_at)
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id, expires_at);
