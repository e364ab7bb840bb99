//! Failed-login throttling, kept in the database so every replica sees the same counts.
//!
//! Each key (an account's email, a client address) counts failures in a window; reaching
//! the limit locks the key until the lockout ends. While locked, even a correct password is
//! refused, which is what makes guessing pointless.

use std::time::Duration;

use sqlx::PgConnection;

/// Limits for one kind of key.
#[derive(Debug, Clone, Copy)]
pub struct Limit {
    /// Failures allowed within `window` before locking.
    pub max_failures: i32,
    /// Counting window, and how long a lock lasts.
    pub window: Duration,
}

fn interval(d: Duration) -> sqlx::postgres::types::PgInterval {
    sqlx::postgres::types::PgInterval {
        months: 0,
        days: 0,
        microseconds: i64::try_from(d.as_micros()).unwrap_or(i64::MAX),
    }
}

/// Seconds until the longest lock among `keys` ends, if any is locked.
pub async fn locked_for(conn: &mut PgConnection, keys: &[String]) -> Result<Option<u64>, sqlx::Error> {
    shopkit::dbop::traced("SELECT login_throttle", async move {
        let seconds: Option<f64> = sqlx::query_scalar!(
            "SELECT extract(epoch FROM max(locked_until) - now())::float8 FROM login_throttle
         WHERE key = ANY($1) AND locked_until > now()",
            keys
        )
        .fetch_one(conn)
        .await?;
        Ok(seconds.map(|s| s.ceil().max(1.0) as u64))
    })
    .await
}

/// Counts one failure for `key`, locking it when the limit is reached.
pub async fn record_failure(conn: &mut PgConnection, key: &str, limit: Limit) -> Result<(), sqlx::Error> {
    shopkit::dbop::traced("INSERT login_throttle", async move {
    let window = interval(limit.window);
    sqlx::query!(
        "INSERT INTO login_throttle AS t (key, failures, window_started_at) VALUES ($1, 1, now())
         ON CONFLICT (key) DO UPDATE SET
           failures = CASE WHEN t.window_started_at < now() - $2::interval THEN 1 ELSE t.failures + 1 END,
           window_started_at = CASE WHEN t.window_started_at < now() - $2::interval THEN now() ELSE t.window_started_at END",
        key,
        window
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "UPDATE login_throttle SET locked_until = now() + $3::interval, failures = 0, window_started_at = now()
         WHERE key = $1 AND failures >= $2",
        key,
        limit.max_failures,
        window
    )
    .execute(conn)
    .await?;
    Ok(())
    })
    .await
}

/// Forgets the failures of `key` (after a successful login).
pub async fn clear(conn: &mut PgConnection, key: &str) -> Result<(), sqlx::Error> {
    shopkit::dbop::traced("DELETE login_throttle", async move {
        sqlx::query!(
            "DELETE FROM login_throttle WHERE key = $1 AND (locked_until IS NULL OR locked_until <= now())",
            key
        )
        .execute(conn)
        .await?;
        Ok(())
    })
    .await
}
