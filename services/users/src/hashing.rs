//! Password hashing off the async worker threads.
//!
//! argon2id with OWASP parameters costs tens of milliseconds of CPU by design; run on a tokio
//! worker it would stall every other request on that thread, so it goes to the blocking pool.

use crate::{
    domain::password::{Password, hash_password, verify_password},
    error::UsersError,
};

/// Hashes a password on the blocking pool.
pub async fn hash_off_thread(password: Password) -> Result<String, UsersError> {
    tokio::task::spawn_blocking(move || hash_password(password.expose()))
        .await
        .map_err(|e| UsersError::Internal(e.to_string()))?
        .map_err(|e| UsersError::Internal(e.to_string()))
}

/// Checks a password against a hash on the blocking pool.
pub async fn verify_off_thread(password: String, hash: String) -> Result<bool, UsersError> {
    tokio::task::spawn_blocking(move || verify_password(&password, &hash))
        .await
        .map_err(|e| UsersError::Internal(e.to_string()))
}
