//! Accounts: insert, read, update, delete.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::{
    domain::account::{DisplayName, Email},
    error::UsersError,
};

/// Name of the unique constraint on `users.email`.
const EMAIL_UNIQUE: &str = "users_email_key";

/// An account as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRow {
    /// Account id.
    pub id: Uuid,
    /// Normalised email.
    pub email: String,
    /// Display name.
    pub name: String,
    /// argon2id hash.
    pub password_hash: String,
    /// `customer` or `admin`.
    pub role: String,
    /// Registration time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

fn map_email_conflict(err: sqlx::Error) -> UsersError {
    match &err {
        sqlx::Error::Database(db) if db.constraint() == Some(EMAIL_UNIQUE) => UsersError::EmailTaken,
        _ => UsersError::Database(err),
    }
}

/// Account role stored in the database; registration never writes `admin`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoredRole {
    /// A shopper.
    Customer,
    /// Staff, created only by the bootstrap.
    Admin,
}

impl StoredRole {
    fn as_str(self) -> &'static str {
        match self {
            Self::Customer => "customer",
            Self::Admin => "admin",
        }
    }
}

/// Creates an account. A taken email is [`UsersError::EmailTaken`].
pub async fn insert(
    conn: &mut PgConnection,
    email: &Email,
    name: &DisplayName,
    password_hash: &str,
    role: StoredRole,
) -> Result<UserRow, UsersError> {
    shopkit::dbop::traced("INSERT users", async move {
        sqlx::query_as!(
            UserRow,
            "INSERT INTO users (id, email, name, password_hash, role) VALUES ($1, $2, $3, $4, $5)
         RETURNING id, email, name, password_hash, role, created_at, updated_at",
            Uuid::now_v7(),
            email.as_str(),
            name.as_str(),
            password_hash,
            role.as_str()
        )
        .fetch_one(conn)
        .await
        .map_err(map_email_conflict)
    })
    .await
}

/// Creates the account unless the email exists; returns whether it was created.
pub async fn insert_if_absent(
    conn: &mut PgConnection,
    email: &Email,
    name: &DisplayName,
    password_hash: &str,
    role: StoredRole,
) -> Result<bool, UsersError> {
    shopkit::dbop::traced("INSERT users", async move {
        let result = sqlx::query!(
            "INSERT INTO users (id, email, name, password_hash, role) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (email) DO NOTHING",
            Uuid::now_v7(),
            email.as_str(),
            name.as_str(),
            password_hash,
            role.as_str()
        )
        .execute(conn)
        .await?;
        Ok(result.rows_affected() == 1)
    })
    .await
}

/// An account by id.
pub async fn get(conn: &mut PgConnection, id: Uuid) -> Result<UserRow, UsersError> {
    shopkit::dbop::traced("SELECT users", async move {
        sqlx::query_as!(
            UserRow,
            "SELECT id, email, name, password_hash, role, created_at, updated_at FROM users WHERE id = $1",
            id
        )
        .fetch_optional(conn)
        .await?
        .ok_or(UsersError::NotFound)
    })
    .await
}

/// An account by email, if any.
pub async fn find_by_email(conn: &mut PgConnection, email: &Email) -> Result<Option<UserRow>, UsersError> {
    shopkit::dbop::traced("SELECT users", async move {
        Ok(sqlx::query_as!(
            UserRow,
            "SELECT id, email, name, password_hash, role, created_at, updated_at FROM users WHERE email = $1",
            email.as_str()
        )
        .fetch_optional(conn)
        .await?)
    })
    .await
}

/// Changes to an account; `None` keeps the current value.
#[derive(Debug, Default)]
pub struct AccountChanges {
    /// New email.
    pub email: Option<Email>,
    /// New name.
    pub name: Option<DisplayName>,
    /// New argon2id hash.
    pub password_hash: Option<String>,
}

/// Applies changes to an account.
pub async fn update(conn: &mut PgConnection, id: Uuid, changes: &AccountChanges) -> Result<UserRow, UsersError> {
    shopkit::dbop::traced("UPDATE users", async move {
        sqlx::query_as!(
            UserRow,
            "UPDATE users SET email = coalesce($2, email), name = coalesce($3, name),
                password_hash = coalesce($4, password_hash), updated_at = now()
         WHERE id = $1 RETURNING id, email, name, password_hash, role, created_at, updated_at",
            id,
            changes.email.as_ref().map(Email::as_str),
            changes.name.as_ref().map(DisplayName::as_str),
            changes.password_hash.as_deref()
        )
        .fetch_optional(conn)
        .await
        .map_err(map_email_conflict)?
        .ok_or(UsersError::NotFound)
    })
    .await
}

/// Deletes an account and, with it, all its personal data.
/// The last admin cannot be deleted (409): nobody could manage the shop afterwards. The admin
/// rows are locked first, so two admins deleting each other at once cannot both succeed.
pub async fn delete(conn: &mut PgConnection, id: Uuid) -> Result<(), UsersError> {
    shopkit::dbop::traced("DELETE users", async move {
        let mut tx = sqlx::Connection::begin(&mut *conn).await?;
        let admins: Vec<Uuid> =
            sqlx::query_scalar!("SELECT id FROM users WHERE role = 'admin' FOR UPDATE").fetch_all(&mut *tx).await?;
        if admins == [id] {
            return Err(UsersError::LastAdmin);
        }
        let result = sqlx::query!("DELETE FROM users WHERE id = $1", id).execute(&mut *tx).await?;
        if result.rows_affected() == 0 {
            return Err(UsersError::NotFound);
        }
        tx.commit().await?;
        Ok(())
    })
    .await
}
