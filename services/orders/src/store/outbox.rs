//! The outbox's reading side: the relay takes unpublished events in order and marks them.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

/// An event waiting to be published.
#[derive(Debug, Clone)]
pub struct PendingEvent {
    pub id: Uuid,
    pub order_id: Uuid,
    pub kind: String,
    pub payload: String,
    pub traceparent: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// Up to `limit` unpublished events, oldest first, locked until `conn`'s transaction ends; rows
/// another relay holds are skipped.
pub async fn lock_unpublished(conn: &mut PgConnection, limit: i64) -> Result<Vec<PendingEvent>, sqlx::Error> {
    shopkit::dbop::traced("SELECT outbox", async move {
        sqlx::query_as!(
            PendingEvent,
            "SELECT id, order_id, kind, payload, traceparent, created_at FROM outbox
             WHERE published_at IS NULL ORDER BY created_at, id LIMIT $1 FOR UPDATE SKIP LOCKED",
            limit
        )
        .fetch_all(conn)
        .await
    })
    .await
}

/// Marks events published.
pub async fn mark_published(conn: &mut PgConnection, ids: &[Uuid]) -> Result<(), sqlx::Error> {
    shopkit::dbop::traced("UPDATE outbox", async move {
        sqlx::query!("UPDATE outbox SET published_at = now() WHERE id = ANY($1)", ids).execute(conn).await.map(|_| ())
    })
    .await
}
