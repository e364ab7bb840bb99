//! `/users`: registration, the caller's own account, and admin access to any account.

use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::{
    ApiResponse, Object, OpenApi,
    param::{Path, Query},
    payload::Json,
};
use shopkit::{
    FieldErrors,
    auth::{BearerAuth, Role},
    problem::Refusal,
};
use uuid::Uuid;

use super::{ApiTags, AppState};
use crate::{
    domain::{
        account::{DisplayName, Email},
        password::Password,
    },
    error::UsersError,
    hashing::{hash_off_thread, verify_off_thread},
    store::{
        refresh_tokens,
        users::{self, AccountChanges, StoredRole, UserRow},
    },
};

/// A new account. Any other field (such as `role`) is ignored: registration always creates
/// a customer.
#[derive(Object)]
pub struct RegisterBody {
    /// Email address, unique (case-insensitively).
    pub email: String,
    /// At least 10 characters; not a very common password, not the email.
    #[oai(write_only)]
    pub password: String,
    /// Display name, 1-100 characters.
    pub name: String,
}

/// Changes to the caller's account. Changing the email or the password needs
/// `current_password`.
#[derive(Object)]
pub struct ProfilePatchBody {
    pub name: Option<String>,
    pub email: Option<String>,
    #[oai(write_only)]
    pub password: Option<String>,
    /// The current password, required to change email or password.
    #[oai(write_only)]
    pub current_password: Option<String>,
}

/// Account role as shown to clients.
#[derive(Debug, poem_openapi::Enum)]
#[oai(rename_all = "lowercase")]
pub enum AccountRole {
    /// A shopper.
    Customer,
    /// Shop staff, who manage the catalogue.
    Admin,
}

/// An account, without any password material.
#[derive(Debug, Object)]
pub struct User {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub role: AccountRole,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<UserRow> for User {
    fn from(row: UserRow) -> Self {
        Self {
            id: row.id,
            email: row.email,
            name: row.name,
            role: if row.role == "admin" { AccountRole::Admin } else { AccountRole::Customer },
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

/// Response of registration.
#[derive(ApiResponse)]
pub enum RegisterResponse {
    /// The account was created.
    #[oai(status = 201)]
    Created(Json<User>, #[oai(header = "Location")] String),
}

/// Response of account reads and updates.
#[derive(ApiResponse)]
pub enum UserResponse {
    /// The account.
    #[oai(status = 200)]
    Ok(Json<User>),
}

/// Accounts matching a search.
#[derive(Object)]
pub struct UserList {
    /// The matches (an e-mail matches one account at most).
    pub items: Vec<User>,
}

/// Response of the account search.
#[derive(ApiResponse)]
pub enum UserListResponse {
    /// The accounts found, possibly none.
    #[oai(status = 200)]
    Ok(Json<UserList>),
}

/// Response of account deletion.
#[derive(ApiResponse)]
pub enum DeleteUserResponse {
    /// The account and its personal data are gone.
    #[oai(status = 204)]
    Deleted,
}

shopkit::statuses!(
    /// `registerUser`: the email is taken, invalid fields.
    RegisterErrors = [409, 422]
);
shopkit::statuses!(
    /// `getMe`: a service token, the account is gone.
    GetMeErrors = [403, 404]
);
shopkit::statuses!(
    /// `updateMe`: a service token or a wrong current password, the account is gone, the email is taken, invalid fields.
    UpdateMeErrors = [403, 404, 409, 422]
);
shopkit::statuses!(
    /// `deleteMe`: a service token, the account is gone, the last admin.
    DeleteMeErrors = [403, 404, 409]
);
shopkit::statuses!(
    /// `getUser`: another customer's account, no such account.
    GetUserErrors = [403, 404]
);
shopkit::statuses!(
    /// `findUsers`: not an admin; an e-mail that cannot be one.
    FindUsersErrors = [403, 422]
);
shopkit::statuses!(
    /// `deleteUser`: not an admin, no such account, the last admin.
    DeleteUserErrors = [403, 404, 409]
);

/// Account operations.
pub struct AccountsApi;

#[OpenApi(tag = "ApiTags::Users")]
impl AccountsApi {
    /// Register a customer account.
    #[oai(path = "/users", method = "post", operation_id = "registerUser")]
    async fn register(
        &self,
        state: Data<&AppState>,
        body: Json<RegisterBody>,
    ) -> Result<RegisterResponse, Refusal<RegisterErrors>> {
        let mut errors = FieldErrors::default();
        let email = errors.check("email", Email::parse(&body.email));
        let name = errors.check("name", DisplayName::parse(&body.name));
        let password = errors.check("password", Password::parse(&body.password, email.as_ref().map(Email::as_str)));
        let (Some(email), Some(name), Some(password)) = (email, name, password) else {
            return Err(errors.into());
        };
        let hash = hash_off_thread(password).await?;
        let mut conn = state.pool.acquire().await?;
        let row = users::insert(&mut conn, &email, &name, &hash, StoredRole::Customer).await?;
        tracing::info!(user_id = %row.id, "user registered");
        let location = format!("/users/{}", row.id);
        Ok(RegisterResponse::Created(Json(row.into()), location))
    }

    /// The caller's account.
    #[oai(path = "/users/me", method = "get", operation_id = "getMe")]
    async fn me(&self, auth: BearerAuth, state: Data<&AppState>) -> Result<UserResponse, Refusal<GetMeErrors>> {
        let id = auth.0.user_id()?;
        let mut conn = state.pool.acquire().await?;
        Ok(UserResponse::Ok(Json(users::get(&mut conn, id).await?.into())))
    }

    /// Change the caller's name, email or password.
    #[oai(path = "/users/me", method = "patch", operation_id = "updateMe")]
    async fn update_me(
        &self,
        auth: BearerAuth,
        state: Data<&AppState>,
        body: Json<ProfilePatchBody>,
    ) -> Result<UserResponse, Refusal<UpdateMeErrors>> {
        let id = auth.0.user_id()?;
        let body = body.0;
        let mut errors = FieldErrors::default();
        let name = body.name.as_deref().and_then(|n| errors.check("name", DisplayName::parse(n)));
        let email = body.email.as_deref().and_then(|e| errors.check("email", Email::parse(e)));
        let sensitive = body.email.is_some() || body.password.is_some();
        if sensitive && body.current_password.is_none() {
            errors.add("current_password", "is required to change the email or the password");
        }
        let mut conn = state.pool.acquire().await?;
        let current = users::get(&mut conn, id).await?;
        let new_email = email.as_ref().map(Email::as_str).unwrap_or(&current.email).to_owned();
        let password =
            body.password.as_deref().and_then(|p| errors.check("password", Password::parse(p, Some(&new_email))));
        if !errors.is_empty() {
            return Err(errors.into());
        }
        if let Some(current_password) = body.current_password.filter(|_| sensitive)
            && !verify_off_thread(current_password, current.password_hash.clone()).await?
        {
            return Err(UsersError::WrongCurrentPassword.into());
        }
        let password_hash = match password {
            Some(p) => Some(hash_off_thread(p).await?),
            None => None,
        };
        // A new password ends every log-in of the account (other devices, a stolen session):
        // its refresh tokens are revoked with the change, in one transaction.
        let password_changed = password_hash.is_some();
        let mut tx = sqlx::Connection::begin(&mut *conn).await?;
        let row = users::update(&mut tx, id, &AccountChanges { email, name, password_hash }).await?;
        if password_changed {
            refresh_tokens::revoke_all(&mut tx, id).await?;
        }
        tx.commit().await?;
        tracing::info!(user_id = %id, password_changed, "profile updated");
        Ok(UserResponse::Ok(Json(row.into())))
    }

    /// Delete the caller's account and all its personal data.
    #[oai(path = "/users/me", method = "delete", operation_id = "deleteMe")]
    async fn delete_me(
        &self,
        auth: BearerAuth,
        state: Data<&AppState>,
    ) -> Result<DeleteUserResponse, Refusal<DeleteMeErrors>> {
        let id = auth.0.user_id()?;
        let mut conn = state.pool.acquire().await?;
        users::delete(&mut conn, id).await?;
        tracing::info!(user_id = %id, "account deleted by its owner");
        Ok(DeleteUserResponse::Deleted)
    }

    /// Any account (admin, or a service such as orders checking a customer). A customer may
    /// only read their own.
    #[oai(path = "/users/:id", method = "get", operation_id = "getUser")]
    async fn get(
        &self,
        auth: BearerAuth,
        state: Data<&AppState>,
        id: Path<Uuid>,
    ) -> Result<UserResponse, Refusal<GetUserErrors>> {
        let own = auth.0.role == Role::Customer && auth.0.user_id().is_ok_and(|me| me == id.0);
        if !own {
            auth.0.require(&[Role::Admin, Role::Service])?;
        }
        let user = state.lender.lend(async |conn| users::get(conn, id.0).await).await?;
        Ok(UserResponse::Ok(Json(user.into())))
    }

    /// Find accounts (admin): the account with this e-mail (case-insensitive), so staff can go
    /// from a customer's e-mail to their orders.
    #[oai(path = "/users", method = "get", operation_id = "findUsers")]
    async fn find(
        &self,
        auth: BearerAuth,
        state: Data<&AppState>,
        /// The e-mail address to look for.
        email: Query<String>,
    ) -> Result<UserListResponse, Refusal<FindUsersErrors>> {
        auth.0.require(&[Role::Admin])?;
        let mut errors = FieldErrors::default();
        let Some(email) = errors.check("email", Email::parse(&email.0)) else { return Err(errors.into()) };
        let mut conn = state.pool.acquire().await?;
        let found = users::find_by_email(&mut conn, &email).await?;
        Ok(UserListResponse::Ok(Json(UserList { items: found.into_iter().map(User::from).collect() })))
    }

    /// Delete any account (admin).
    #[oai(path = "/users/:id", method = "delete", operation_id = "deleteUser")]
    async fn delete(
        &self,
        auth: BearerAuth,
        state: Data<&AppState>,
        id: Path<Uuid>,
    ) -> Result<DeleteUserResponse, Refusal<DeleteUserErrors>> {
        auth.0.require(&[Role::Admin])?;
        let mut conn = state.pool.acquire().await?;
        users::delete(&mut conn, id.0).await?;
        tracing::info!(user_id = %id.0, "account deleted by an admin");
        Ok(DeleteUserResponse::Deleted)
    }
}
