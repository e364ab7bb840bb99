//! Each account's saved delivery addresses.

use chrono::{DateTime, Utc};
use shopkit::address::Address;
use sqlx::PgConnection;
use uuid::Uuid;

/// How many addresses an account keeps: saving one more forgets the least recently used.
pub const MAX_PER_ACCOUNT: i64 = 10;

/// A saved address.
#[derive(Debug, Clone)]
pub struct AddressRow {
    pub id: Uuid,
    pub recipient: String,
    pub line1: String,
    pub line2: String,
    pub postal_code: String,
    pub city: String,
    pub country: String,
    pub last_used_at: DateTime<Utc>,
}

/// The account's addresses, most recently used first.
pub async fn list(conn: &mut PgConnection, user_id: Uuid) -> Result<Vec<AddressRow>, sqlx::Error> {
    shopkit::dbop::traced("SELECT addresses", async move {
        sqlx::query_as!(
            AddressRow,
            r#"SELECT id, recipient, line1, line2, postal_code, city, country AS "country!", last_used_at
               FROM addresses WHERE user_id = $1 ORDER BY last_used_at DESC, id"#,
            user_id
        )
        .fetch_all(conn)
        .await
    })
    .await
}

/// Saves `address` for the account (or marks it used if it is already saved), keeping the
/// [`MAX_PER_ACCOUNT`] most recently used. One transaction.
pub async fn save(conn: &mut PgConnection, user_id: Uuid, address: &Address) -> Result<AddressRow, sqlx::Error> {
    shopkit::dbop::traced("INSERT addresses DELETE addresses", async move {
        let mut tx = sqlx::Connection::begin(conn).await?;
        let row = sqlx::query_as!(
            AddressRow,
            r#"INSERT INTO addresses (id, user_id, recipient, line1, line2, postal_code, city, country)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
               ON CONFLICT ON CONSTRAINT addresses_once DO UPDATE SET last_used_at = now()
               RETURNING id, recipient, line1, line2, postal_code, city, country AS "country!", last_used_at"#,
            Uuid::now_v7(),
            user_id,
            address.recipient,
            address.line1,
            address.line2,
            address.postal_code,
            address.city,
            address.country
        )
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query!(
            "DELETE FROM addresses WHERE user_id = $1 AND id NOT IN
                 (SELECT id FROM addresses WHERE user_id = $1 ORDER BY last_used_at DESC, id LIMIT $2)",
            user_id,
            MAX_PER_ACCOUNT
        )
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(row)
    })
    .await
}

/// Forgets one of the account's addresses; `false` when it has no such address.
pub async fn delete(conn: &mut PgConnection, user_id: Uuid, id: Uuid) -> Result<bool, sqlx::Error> {
    shopkit::dbop::traced("DELETE addresses", async move {
        let done =
            sqlx::query!("DELETE FROM addresses WHERE user_id = $1 AND id = $2", user_id, id).execute(conn).await?;
        Ok(done.rows_affected() > 0)
    })
    .await
}
