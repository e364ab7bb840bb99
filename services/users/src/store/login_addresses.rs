//! The addresses each account has logged in from: they are exempt from the account-wide lock
//! (see `api::auth`), so guessing from elsewhere cannot lock the owner out.

use sqlx::PgConnection;
use uuid::Uuid;

/// Whether `user_id` logged in successfully from `address` in the last 90 days.
pub async fn known(conn: &mut PgConnection, user_id: Uuid, address: &str) -> Result<bool, sqlx::Error> {
    shopkit::dbop::traced("SELECT login_addresses", async move {
        sqlx::query_scalar!(
            r#"SELECT EXISTS (SELECT 1 FROM login_addresses WHERE user_id = $1 AND address = $2
                  AND last_login_at > now() - interval '90 days') AS "known!""#,
            user_id,
            address
        )
        .fetch_one(conn)
        .await
    })
    .await
}

/// Records a successful log-in of `user_id` from `address`, forgetting its addresses unused for
/// 90 days.
pub async fn remember(conn: &mut PgConnection, user_id: Uuid, address: &str) -> Result<(), sqlx::Error> {
    shopkit::dbop::traced("DELETE login_addresses INSERT login_addresses", async move {
        let mut tx = sqlx::Connection::begin(conn).await?;
        sqlx::query!(
            "DELETE FROM login_addresses WHERE user_id = $1 AND last_login_at <= now() - interval '90 days'",
            user_id
        )
        .execute(&mut *tx)
        .await?;
        sqlx::query!(
            "INSERT INTO login_addresses (user_id, address) VALUES ($1, $2)
             ON CONFLICT (user_id, address) DO UPDATE SET last_login_at = now()",
            user_id,
            address
        )
        .execute(&mut *tx)
        .await?;
        tx.commit().await
    })
    .await
}
