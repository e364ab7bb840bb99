//! Refresh tokens: issued at log-in, exchanged once each for a successor (rotation), revoked
//! by log-out or when a used one comes back. Only the SHA-256 of a token is stored: a token is
//! 32 random bytes, so a fast hash is enough (nothing to guess, unlike a password).

use std::time::Duration;

use base64::Engine as _;
use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::error::UsersError;

/// A refresh token just issued: the value goes to the client once, never stored.
#[derive(Debug)]
pub struct Issued {
    /// The opaque token (43 base64url characters).
    pub token: String,
    /// When it stops being accepted unless exchanged before.
    pub expires_at: DateTime<Utc>,
}

/// A token exchanged: who it was for, and its successor.
#[derive(Debug)]
pub struct Rotated {
    /// The account.
    pub user_id: Uuid,
    /// Its role now (a promotion or demotion since the log-in shows in the next access token).
    pub role: String,
    /// The successor, of the same family.
    pub successor: Issued,
}

/// Why a token was not exchanged. The client hears the same 401 for each; the log tells them apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No such token (never issued, or its account deleted).
    Unknown,
    /// Past its expiry.
    Expired,
    /// Revoked by a log-out or a detected reuse.
    Revoked,
    /// Already exchanged: someone holds a copy. The family is revoked now.
    Reused,
}

/// A new random token and the hash it is stored under.
fn new_token() -> Result<(String, Vec<u8>), UsersError> {
    let mut bytes = [0u8; 32];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes)
        .map_err(|_| UsersError::Internal("system random generator failed".into()))?;
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let hash = hash_of(&token);
    Ok((token, hash))
}

/// The stored key of a token.
fn hash_of(token: &str) -> Vec<u8> {
    ring::digest::digest(&ring::digest::SHA256, token.as_bytes()).as_ref().to_vec()
}

fn lifetime(ttl: Duration) -> chrono::Duration {
    chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::days(7))
}

/// Starts a family for a log-in of `user_id`; also forgets this account's tokens that expired
/// more than a day ago, so the table holds live families and recent history only.
pub async fn issue(conn: &mut PgConnection, user_id: Uuid, ttl: Duration) -> Result<Issued, UsersError> {
    shopkit::dbop::traced("DELETE refresh_tokens INSERT refresh_tokens", async move {
        let (token, hash) = new_token()?;
        let expires_at = Utc::now() + lifetime(ttl);
        let mut tx = sqlx::Connection::begin(conn).await?;
        sqlx::query!(
            "DELETE FROM refresh_tokens WHERE user_id = $1 AND expires_at < now() - interval '1 day'",
            user_id
        )
        .execute(&mut *tx)
        .await?;
        sqlx::query!(
            "INSERT INTO refresh_tokens (token_hash, family_id, user_id, expires_at) VALUES ($1, $2, $3, $4)",
            hash,
            Uuid::now_v7(),
            user_id,
            expires_at
        )
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Issued { token, expires_at })
    })
    .await
}

/// Exchanges `token` for its successor, in one transaction that locks the token's row, so two
/// exchanges of one token cannot both succeed. A token already exchanged revokes its family.
pub async fn exchange(
    conn: &mut PgConnection,
    token: &str,
    ttl: Duration,
) -> Result<Result<Rotated, Refusal>, UsersError> {
    shopkit::dbop::traced("SELECT refresh_tokens UPDATE refresh_tokens INSERT refresh_tokens", async move {
        let mut tx = sqlx::Connection::begin(conn).await?;
        let found = sqlx::query!(
            r#"SELECT r.family_id, r.user_id, u.role, r.expires_at <= now() AS "expired!",
                      r.used_at IS NOT NULL AS "used!", r.revoked_at IS NOT NULL AS "revoked!"
               FROM refresh_tokens r JOIN users u ON u.id = r.user_id
               WHERE r.token_hash = $1 FOR UPDATE OF r"#,
            hash_of(token)
        )
        .fetch_optional(&mut *tx)
        .await?;
        let Some(found) = found else { return Ok(Err(Refusal::Unknown)) };
        let refusal = if found.revoked {
            Some(Refusal::Revoked)
        } else if found.used {
            sqlx::query!(
                "UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = $1 AND revoked_at IS NULL",
                found.family_id
            )
            .execute(&mut *tx)
            .await?;
            Some(Refusal::Reused)
        } else if found.expired {
            Some(Refusal::Expired)
        } else {
            None
        };
        if let Some(refusal) = refusal {
            tx.commit().await?;
            return Ok(Err(refusal));
        }
        sqlx::query!("UPDATE refresh_tokens SET used_at = now() WHERE token_hash = $1", hash_of(token))
            .execute(&mut *tx)
            .await?;
        let (successor, hash) = new_token()?;
        let expires_at = Utc::now() + lifetime(ttl);
        sqlx::query!(
            "INSERT INTO refresh_tokens (token_hash, family_id, user_id, expires_at) VALUES ($1, $2, $3, $4)",
            hash,
            found.family_id,
            found.user_id,
            expires_at
        )
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Ok(Rotated { user_id: found.user_id, role: found.role, successor: Issued { token: successor, expires_at } }))
    })
    .await
}

/// Revokes the family of `token` (a log-out); `false` when the token is unknown.
pub async fn revoke_family(conn: &mut PgConnection, token: &str) -> Result<bool, UsersError> {
    shopkit::dbop::traced("UPDATE refresh_tokens", async move {
        let revoked = sqlx::query!(
            "UPDATE refresh_tokens SET revoked_at = now()
             WHERE family_id = (SELECT family_id FROM refresh_tokens WHERE token_hash = $1) AND revoked_at IS NULL",
            hash_of(token)
        )
        .execute(conn)
        .await?;
        Ok(revoked.rows_affected() > 0)
    })
    .await
}

/// Revokes every token of an account (a password change ends its other sessions).
pub async fn revoke_all(conn: &mut PgConnection, user_id: Uuid) -> Result<u64, UsersError> {
    shopkit::dbop::traced("UPDATE refresh_tokens", async move {
        let revoked = sqlx::query!(
            "UPDATE refresh_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL",
            user_id
        )
        .execute(conn)
        .await?;
        Ok(revoked.rows_affected())
    })
    .await
}
