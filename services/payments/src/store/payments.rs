//! Payments: idempotent insert, reads, refund.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, Postgres, Transaction};
use uuid::Uuid;

use crate::{
    domain::charge::{PaymentEvent, PaymentStatus},
    error::PaymentsError,
};

/// A payment as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PaymentRow {
    /// Payment id.
    pub id: Uuid,
    /// Hash of the request that created it.
    pub request_hash: String,
    /// The order paid for.
    pub order_id: Uuid,
    /// Amount in minor units.
    pub amount_minor: i64,
    /// ISO 4217 code.
    pub currency: String,
    /// `succeeded`, `declined` or `refunded`.
    pub status: String,
    /// Why it was declined.
    pub decline_code: Option<String>,
    pub card_brand: String,
    /// Last four digits of the card.
    pub card_last4: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it was refunded.
    pub refunded_at: Option<DateTime<Utc>>,
}

/// A payment to record.
#[derive(Debug)]
pub struct NewPayment<'a> {
    /// Client-chosen key making the request idempotent.
    pub idempotency_key: &'a str,
    pub request_hash: &'a str,
    pub order_id: Uuid,
    pub amount_minor: i64,
    pub currency: &'a str,
    pub status: PaymentStatus,
    /// Decline reason, with `Declined`.
    pub decline_code: Option<&'a str>,
    pub card_brand: &'a str,
    /// Last four digits.
    pub card_last4: &'a str,
}

/// The payment recorded under `key`, if any; a different request under the same key is an error.
pub async fn find_by_key(
    conn: &mut PgConnection,
    key: &str,
    request_hash: &str,
) -> Result<Option<PaymentRow>, PaymentsError> {
    shopkit::dbop::traced("SELECT payments", async move {
        let row = sqlx::query_as!(
            PaymentRow,
            "SELECT id, request_hash, order_id, amount_minor, currency, status, decline_code, card_brand, card_last4,
                created_at, refunded_at
         FROM payments WHERE idempotency_key = $1",
            key
        )
        .fetch_optional(conn)
        .await?;
        match row {
            Some(row) if row.request_hash != request_hash => Err(PaymentsError::KeyReused),
            other => Ok(other),
        }
    })
    .await
}

/// Records a payment. If a concurrent request with the same key won the race, its payment is
/// returned instead (and this one is discarded), so a key never charges twice.
pub async fn insert(conn: &mut PgConnection, payment: &NewPayment<'_>) -> Result<PaymentRow, PaymentsError> {
    shopkit::dbop::traced("INSERT payments", async move {
    let inserted = sqlx::query_as!(
        PaymentRow,
        "INSERT INTO payments (id, idempotency_key, request_hash, order_id, amount_minor, currency, status, decline_code, card_brand, card_last4)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         ON CONFLICT (idempotency_key) DO NOTHING
         RETURNING id, request_hash, order_id, amount_minor, currency, status, decline_code, card_brand, card_last4,
                   created_at, refunded_at",
        Uuid::now_v7(),
        payment.idempotency_key,
        payment.request_hash,
        payment.order_id,
        payment.amount_minor,
        payment.currency,
        payment.status.as_str(),
        payment.decline_code,
        payment.card_brand,
        payment.card_last4,
    )
    .fetch_optional(&mut *conn)
    .await?;
    match inserted {
        Some(row) => Ok(row),
        None => find_by_key(conn, payment.idempotency_key, payment.request_hash).await?.ok_or(PaymentsError::NotFound),
    }
    })
    .await
}

/// A payment by id.
pub async fn get(conn: &mut PgConnection, id: Uuid) -> Result<PaymentRow, PaymentsError> {
    shopkit::dbop::traced("SELECT payments", async move {
        sqlx::query_as!(
            PaymentRow,
            "SELECT id, request_hash, order_id, amount_minor, currency, status, decline_code, card_brand, card_last4,
                created_at, refunded_at
         FROM payments WHERE id = $1",
            id
        )
        .fetch_optional(conn)
        .await?
        .ok_or(PaymentsError::NotFound)
    })
    .await
}

/// Every payment of an order, oldest first.
pub async fn list_for_order(conn: &mut PgConnection, order_id: Uuid) -> Result<Vec<PaymentRow>, PaymentsError> {
    shopkit::dbop::traced("SELECT payments", async move {
        Ok(sqlx::query_as!(
            PaymentRow,
            "SELECT id, request_hash, order_id, amount_minor, currency, status, decline_code, card_brand, card_last4,
                created_at, refunded_at
         FROM payments WHERE order_id = $1 ORDER BY created_at, id",
            order_id
        )
        .fetch_all(conn)
        .await?)
    })
    .await
}

/// Refunds a payment in full, once: the row is locked, the state machine decides, and a
/// payment already refunded is returned unchanged.
pub async fn refund(tx: &mut Transaction<'_, Postgres>, id: Uuid) -> Result<PaymentRow, PaymentsError> {
    shopkit::dbop::traced("UPDATE payments", async move {
        let row = sqlx::query_as!(
            PaymentRow,
            "SELECT id, request_hash, order_id, amount_minor, currency, status, decline_code, card_brand, card_last4,
                created_at, refunded_at
         FROM payments WHERE id = $1 FOR UPDATE",
            id
        )
        .fetch_optional(&mut **tx)
        .await?
        .ok_or(PaymentsError::NotFound)?;
        let current = PaymentStatus::from_db(&row.status).ok_or(PaymentsError::NotFound)?;
        let next = current.transition(PaymentEvent::Refund)?;
        if next == current {
            return Ok(row);
        }
        Ok(sqlx::query_as!(
            PaymentRow,
            "UPDATE payments SET status = $2, refunded_at = now() WHERE id = $1
         RETURNING id, request_hash, order_id, amount_minor, currency, status, decline_code, card_brand, card_last4,
                   created_at, refunded_at",
            id,
            next.as_str()
        )
        .fetch_one(&mut **tx)
        .await?)
    })
    .await
}
