//! The bootstrap admin: the only way an admin account comes to exist.

use shopkit::db::Database;

use crate::{
    config::BootstrapAdmin,
    domain::{
        account::{DisplayName, Email},
        password::Password,
    },
    error::UsersError,
    hashing::hash_off_thread,
    store::users::{self, StoredRole},
};

/// Creates the admin account once the migrations are done, retrying while the database is
/// unreachable, and holds readiness back until then: seeding scripts log in as the admin as
/// soon as the service is ready. The task is not stopped at shutdown; it ends on its own once
/// the admin exists or cannot be created.
pub fn ensure_admin_in_background(database: &Database, admin: BootstrapAdmin) {
    let gate = database.gate_readiness();
    let db = database.clone();
    tokio::spawn(async move {
        db.wait_until_migrated().await;
        let mut delay = std::time::Duration::from_millis(250);
        loop {
            match ensure_admin(&db, &admin).await {
                Ok(created) => {
                    tracing::info!(created, "bootstrap admin present");
                    break;
                }
                Err(UsersError::Database(err)) => {
                    tracing::warn!(error = %err, "bootstrap admin: database error, retrying");
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(std::time::Duration::from_secs(10));
                }
                Err(err) => {
                    tracing::error!(error = %err, "bootstrap admin could not be created (check BOOTSTRAP_ADMIN_*)");
                    break;
                }
            }
        }
        gate.open();
    });
}

/// Creates the admin account if its email is not registered yet. Idempotent, and safe when
/// several replicas run it at once (`ON CONFLICT DO NOTHING`). An existing account with that
/// email is left alone, whatever its role.
pub async fn ensure_admin(database: &Database, admin: &BootstrapAdmin) -> Result<bool, UsersError> {
    let email = Email::parse(&admin.email).map_err(|e| invalid("BOOTSTRAP_ADMIN_EMAIL", e))?;
    let password = Password::parse(admin.password.expose(), Some(email.as_str()))
        .map_err(|e| invalid("BOOTSTRAP_ADMIN_PASSWORD", e))?;
    let mut conn = database.pool().acquire().await?;
    if users::find_by_email(&mut conn, &email).await?.is_some() {
        return Ok(false);
    }
    let hash = hash_off_thread(password).await?;
    let name = DisplayName::parse("Administrator").map_err(|e| invalid("name", e))?;
    users::insert_if_absent(&mut conn, &email, &name, &hash, StoredRole::Admin).await
}

fn invalid(field: &str, reason: String) -> UsersError {
    let mut errors = shopkit::FieldErrors::default();
    errors.add(field, reason);
    UsersError::Invalid(errors)
}
