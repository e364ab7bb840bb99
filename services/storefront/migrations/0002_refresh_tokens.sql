-- The refresh token users issued at log-in, sealed (ChaCha20-Poly1305) under a key derived from
-- the session's cookie value, which only the browser keeps: a copy of this table still logs
-- nobody in. The session layer exchanges it for a new access token when the current one is
-- about to expire, so a shopper stays logged in for the session's life.
ALTER TABLE sessions ADD COLUMN refresh_sealed bytea;
ALTER TABLE sessions ADD CONSTRAINT sessions_refresh_needs_user CHECK (refresh_sealed IS NULL OR user_id IS NOT NULL);
