//! Server-side sessions, keyed by the SHA-256 of the cookie value.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

/// A session as stored.
#[derive(Debug, Clone)]
pub struct SessionRow {
    /// SHA-256 of the cookie value.
    pub id_hash: Vec<u8>,
    /// The token every form must carry back.
    pub csrf_token: String,
    /// The logged-in account, if any.
    pub user_id: Option<Uuid>,
    /// Its display name.
    pub user_name: Option<String>,
    /// `customer` or `admin`.
    pub user_role: Option<String>,
    pub access_token: Option<String>,
    /// When that token expires; the session is a guest's again afterwards.
    pub token_expires_at: Option<DateTime<Utc>>,
    /// The notice to show on the next page, taken by the load that returns it.
    pub flash: Option<String>,
    /// traceparent of the purchase in progress.
    pub purchase_trace: Option<String>,
    /// When that purchase started.
    pub purchase_started: Option<DateTime<Utc>>,
    /// The refresh token, sealed under the cookie's key (`web::seal`).
    pub refresh_sealed: Option<Vec<u8>>,
}

/// The account a log-in puts into a session.
pub struct LoggedIn<'a> {
    /// Account id (the token's subject).
    pub user_id: Uuid,
    /// Display name.
    pub name: &'a str,
    /// `customer` or `admin`.
    pub role: &'a str,
    pub access_token: &'a str,
    /// Its expiry.
    pub expires_at: DateTime<Utc>,
    /// The refresh token, sealed under the new cookie's key.
    pub refresh_sealed: Option<&'a [u8]>,
}

/// The tokens of a logged-in session, after a renewal.
pub struct Renewed<'a> {
    /// `customer` or `admin` (a role change since the log-in shows here).
    pub role: &'a str,
    pub access_token: &'a str,
    /// Its expiry.
    pub expires_at: DateTime<Utc>,
    /// The successor refresh token, sealed.
    pub refresh_sealed: &'a [u8],
}

/// A live session; when `take_flash`, its notice is returned and cleared in the same statement.
/// A session whose token has expired and that holds no refresh token comes back logged out
/// (one with a refresh token is renewed by the session layer).
pub async fn load(
    conn: &mut PgConnection,
    id_hash: &[u8],
    take_flash: bool,
) -> Result<Option<SessionRow>, sqlx::Error> {
    shopkit::dbop::traced("SELECT sessions UPDATE sessions", async move {
        let row = sqlx::query_as!(
            SessionRow,
            "WITH old AS (SELECT id_hash, flash AS old_flash, token_expires_at <= now() AND refresh_sealed IS NULL AS lapsed
                      FROM sessions WHERE id_hash = $1 AND expires_at > now() FOR UPDATE)
         UPDATE sessions s SET flash = CASE WHEN $2 THEN NULL ELSE s.flash END,
             user_id = CASE WHEN old.lapsed THEN NULL ELSE s.user_id END,
             user_name = CASE WHEN old.lapsed THEN NULL ELSE s.user_name END,
             user_role = CASE WHEN old.lapsed THEN NULL ELSE s.user_role END,
             access_token = CASE WHEN old.lapsed THEN NULL ELSE s.access_token END,
             token_expires_at = CASE WHEN old.lapsed THEN NULL ELSE s.token_expires_at END
         FROM old WHERE s.id_hash = old.id_hash
         RETURNING s.id_hash, s.csrf_token, s.user_id, s.user_name, s.user_role, s.access_token,
                   s.token_expires_at, old.old_flash AS flash, s.purchase_trace, s.purchase_started,
                   s.refresh_sealed",
            id_hash,
            take_flash
        )
        .fetch_optional(conn)
        .await?;
        Ok(row.map(|mut row| {
            if !take_flash {
                row.flash = None;
            }
            row
        }))
    })
    .await
}

/// A new guest session living `ttl`.
pub async fn create(
    conn: &mut PgConnection,
    id_hash: &[u8],
    csrf_token: &str,
    ttl: chrono::Duration,
) -> Result<SessionRow, sqlx::Error> {
    shopkit::dbop::traced("INSERT sessions", async move {
        sqlx::query_as!(
            SessionRow,
            "INSERT INTO sessions (id_hash, csrf_token, expires_at) VALUES ($1, $2, now() + $3::interval)
         RETURNING id_hash, csrf_token, user_id, user_name, user_role, access_token, token_expires_at,
                   flash, purchase_trace, purchase_started, refresh_sealed",
            id_hash,
            csrf_token,
            ttl as _
        )
        .fetch_one(conn)
        .await
    })
    .await
}

/// Replaces session `old` by a new logged-in session `new` (a fresh id at log-in defeats
/// session fixation), moving the guest cart into the user's cart first.
pub async fn log_in(
    conn: &mut PgConnection,
    old: &[u8],
    new: &[u8],
    csrf_token: &str,
    account: &LoggedIn<'_>,
    ttl: chrono::Duration,
) -> Result<(), sqlx::Error> {
    shopkit::dbop::traced("DELETE sessions INSERT sessions", async move {
        let mut tx = sqlx::Connection::begin(conn).await?;
        super::carts::merge_guest_cart(&mut tx, old, account.user_id).await?;
        sqlx::query!("DELETE FROM sessions WHERE id_hash = $1", old).execute(&mut *tx).await?;
        sqlx::query!(
            "INSERT INTO sessions (id_hash, csrf_token, user_id, user_name, user_role, access_token, token_expires_at,
                               refresh_sealed, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now() + $9::interval)",
            new,
            csrf_token,
            account.user_id,
            account.name,
            account.role,
            account.access_token,
            account.expires_at,
            account.refresh_sealed,
            ttl as _
        )
        .execute(&mut *tx)
        .await?;
        tx.commit().await
    })
    .await
}

/// The row of a session, locked until `conn`'s transaction ends: a renewal holds it while it
/// asks users for new tokens, so two page loads of one browser do not spend one refresh token
/// twice (the second would be taken for a stolen copy and end the log-in).
pub async fn lock_for_renewal(conn: &mut PgConnection, id_hash: &[u8]) -> Result<Option<SessionRow>, sqlx::Error> {
    shopkit::dbop::traced("SELECT sessions", async move {
        sqlx::query_as!(
            SessionRow,
            "SELECT id_hash, csrf_token, user_id, user_name, user_role, access_token, token_expires_at,
                    NULL::text AS flash, purchase_trace, purchase_started, refresh_sealed
             FROM sessions WHERE id_hash = $1 AND expires_at > now() FOR UPDATE",
            id_hash
        )
        .fetch_optional(conn)
        .await
    })
    .await
}

/// Stores the tokens of a renewal.
pub async fn store_renewal(conn: &mut PgConnection, id_hash: &[u8], renewed: &Renewed<'_>) -> Result<(), sqlx::Error> {
    shopkit::dbop::traced("UPDATE sessions", async move {
        sqlx::query!(
            "UPDATE sessions SET user_role = $2, access_token = $3, token_expires_at = $4, refresh_sealed = $5
             WHERE id_hash = $1",
            id_hash,
            renewed.role,
            renewed.access_token,
            renewed.expires_at,
            renewed.refresh_sealed
        )
        .execute(conn)
        .await
        .map(|_| ())
    })
    .await
}

/// Makes a session a guest's again (its log-in ended: refresh token refused), with `flash`
/// (when given) for the next page.
pub async fn end_login(conn: &mut PgConnection, id_hash: &[u8], flash: Option<&str>) -> Result<(), sqlx::Error> {
    shopkit::dbop::traced("UPDATE sessions", async move {
        sqlx::query!(
            "UPDATE sessions SET user_id = NULL, user_name = NULL, user_role = NULL, access_token = NULL,
                 token_expires_at = NULL, refresh_sealed = NULL, flash = COALESCE($2, flash)
             WHERE id_hash = $1",
            id_hash,
            flash
        )
        .execute(conn)
        .await
        .map(|_| ())
    })
    .await
}

/// Ends a session (the user's cart stays with the account).
pub async fn delete(conn: &mut PgConnection, id_hash: &[u8]) -> Result<(), sqlx::Error> {
    shopkit::dbop::traced("DELETE sessions", async move {
        sqlx::query!("DELETE FROM sessions WHERE id_hash = $1", id_hash).execute(conn).await.map(|_| ())
    })
    .await
}

/// Ends every session of an account (after it was deleted).
pub async fn delete_for_user(conn: &mut PgConnection, user_id: Uuid) -> Result<(), sqlx::Error> {
    shopkit::dbop::traced("DELETE sessions", async move {
        sqlx::query!("DELETE FROM sessions WHERE user_id = $1", user_id).execute(conn).await.map(|_| ())
    })
    .await
}

/// Sets the notice shown on the next page view.
pub async fn set_flash(conn: &mut PgConnection, id_hash: &[u8], text: &str) -> Result<(), sqlx::Error> {
    shopkit::dbop::traced("UPDATE sessions", async move {
        sqlx::query!("UPDATE sessions SET flash = $2 WHERE id_hash = $1", id_hash, text).execute(conn).await.map(|_| ())
    })
    .await
}

/// Records (or, with `None`, ends) the purchase whose page views share one trace.
pub async fn set_purchase_trace(
    conn: &mut PgConnection,
    id_hash: &[u8],
    traceparent: Option<&str>,
) -> Result<(), sqlx::Error> {
    shopkit::dbop::traced("UPDATE sessions", async move {
        sqlx::query!(
        "UPDATE sessions SET purchase_trace = $2, purchase_started = CASE WHEN $2::text IS NULL THEN NULL ELSE now() END
         WHERE id_hash = $1",
        id_hash,
        traceparent
    )
        .execute(conn)
        .await
        .map(|_| ())
    })
    .await
}

/// Updates the name shown in the header after a profile change.
pub async fn set_user_name(conn: &mut PgConnection, user_id: Uuid, name: &str) -> Result<(), sqlx::Error> {
    shopkit::dbop::traced("UPDATE sessions", async move {
        sqlx::query!("UPDATE sessions SET user_name = $2 WHERE user_id = $1", user_id, name)
            .execute(conn)
            .await
            .map(|_| ())
    })
    .await
}

/// Deletes expired sessions (and, through the foreign key, guest carts).
pub async fn sweep_expired(conn: &mut PgConnection) -> Result<u64, sqlx::Error> {
    shopkit::dbop::traced("DELETE sessions", async move {
        Ok(sqlx::query!("DELETE FROM sessions WHERE expires_at <= now()").execute(conn).await?.rows_affected())
    })
    .await
}

/// The delivery the shopper entered at checkout, if any.
pub async fn delivery(conn: &mut PgConnection, id_hash: &[u8]) -> Result<Option<String>, sqlx::Error> {
    shopkit::dbop::traced("SELECT sessions", async move {
        let found = sqlx::query_scalar!("SELECT delivery FROM sessions WHERE id_hash = $1", id_hash)
            .fetch_optional(conn)
            .await?;
        Ok(found.flatten())
    })
    .await
}

/// Keeps the delivery the shopper entered at checkout.
pub async fn set_delivery(conn: &mut PgConnection, id_hash: &[u8], delivery: &str) -> Result<(), sqlx::Error> {
    shopkit::dbop::traced("UPDATE sessions", async move {
        sqlx::query!("UPDATE sessions SET delivery = $2 WHERE id_hash = $1", id_hash, delivery)
            .execute(conn)
            .await
            .map(|_| ())
    })
    .await
}
