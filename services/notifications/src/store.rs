//! The events handled and the e-mails sent.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::email::Email;

/// Whether event `id` was handled already.
pub async fn handled(conn: &mut PgConnection, id: Uuid) -> Result<bool, sqlx::Error> {
    shopkit::dbop::traced("SELECT notifications", async move {
        sqlx::query_scalar!(r#"SELECT EXISTS (SELECT 1 FROM notifications WHERE event_id = $1) AS "handled!""#, id)
            .fetch_one(conn)
            .await
    })
    .await
}

/// Records event `id` as handled, with the e-mail sent for it if any; `false` when another
/// delivery of the same event recorded it first.
pub async fn record(
    conn: &mut PgConnection,
    id: Uuid,
    order_id: Uuid,
    kind: &str,
    email: Option<&Email>,
) -> Result<bool, sqlx::Error> {
    shopkit::dbop::traced("INSERT notifications", async move {
        let done = sqlx::query!(
            "INSERT INTO notifications (event_id, order_id, kind, recipient, subject, body) VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (event_id) DO NOTHING",
            id,
            order_id,
            kind,
            email.map(|e| e.to.as_str()),
            email.map(|e| e.subject.as_str()),
            email.map(|e| e.body.as_str())
        )
        .execute(conn)
        .await?;
        Ok(done.rows_affected() == 1)
    })
    .await
}

/// An e-mail sent.
#[derive(Debug, Clone)]
pub struct SentRow {
    pub event_id: Uuid,
    pub order_id: Uuid,
    pub kind: String,
    pub recipient: Option<String>,
    pub subject: Option<String>,
    pub body: Option<String>,
    pub handled_at: DateTime<Utc>,
}

/// The latest e-mails sent, newest first.
pub async fn recent(conn: &mut PgConnection, limit: i64) -> Result<Vec<SentRow>, sqlx::Error> {
    shopkit::dbop::traced("SELECT notifications", async move {
        sqlx::query_as!(
            SentRow,
            "SELECT event_id, order_id, kind, recipient, subject, body, handled_at FROM notifications
             WHERE recipient IS NOT NULL ORDER BY handled_at DESC LIMIT $1",
            limit
        )
        .fetch_all(conn)
        .await
    })
    .await
}
