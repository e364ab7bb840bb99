//! Password hashing off the async worker threads.
//!
//! argon2id with OWASP parameters costs tens of milliseconds of CPU by design; run on a tokio
//! worker it would stall every other request on that thread, so it goes to the blocking pool.
//!
//! Each hash needs a 19 MiB buffer. glibc's malloc serves an allocation that large with
//! `mmap` and gives it back on free, but then raises its mmap threshold to that size, so
//! later buffers come from the heap of whichever blocking thread runs the hash and stay
//! there: the users service grew from 14 MiB to over 300 MiB after a few dozen logins.
//! [`return_large_buffers_to_the_os`] fixes the threshold at start, and at most one hash per
//! core runs at a time ([`HASHING_SLOTS`]), so even a burst of logins holds a bounded number
//! of buffers (more at once would not finish sooner: the work is CPU-bound).

use crate::{
    domain::password::{Password, hash_password, verify_password},
    error::UsersError,
};

/// Hashes running at once, one per core; the rest wait their turn.
static HASHING_SLOTS: std::sync::LazyLock<tokio::sync::Semaphore> = std::sync::LazyLock::new(|| {
    tokio::sync::Semaphore::new(std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get))
});

async fn hashing_slot() -> Result<tokio::sync::SemaphorePermit<'static>, UsersError> {
    HASHING_SLOTS.acquire().await.map_err(|e| UsersError::Internal(e.to_string()))
}

/// Hashes a password on the blocking pool.
pub async fn hash_off_thread(password: Password) -> Result<String, UsersError> {
    let _slot = hashing_slot().await?;
    tokio::task::spawn_blocking(move || hash_password(password.expose()))
        .await
        .map_err(|e| UsersError::Internal(e.to_string()))?
        .map_err(|e| UsersError::Internal(e.to_string()))
}

/// Checks a password against a hash on the blocking pool.
pub async fn verify_off_thread(password: String, hash: String) -> Result<bool, UsersError> {
    let _slot = hashing_slot().await?;
    tokio::task::spawn_blocking(move || verify_password(&password, &hash))
        .await
        .map_err(|e| UsersError::Internal(e.to_string()))
}

/// Makes glibc serve every allocation of 1 MiB or more with `mmap` and return it on free,
/// for the life of the process (setting the threshold explicitly also stops glibc from
/// raising it). Call once at start, before the first hash. Elsewhere than Linux/glibc the
/// allocator already behaves, and this does nothing.
pub fn return_large_buffers_to_the_os() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: mallopt only changes allocator tuning; M_MMAP_THRESHOLD with a value below
        // glibc's maximum (32 MiB on 64-bit) is a documented, valid call at any time.
        #[allow(unsafe_code)] // the workspace's one exception (see Cargo.toml)
        let ok = unsafe { libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20) };
        if ok != 1 {
            tracing::warn!("mallopt(M_MMAP_THRESHOLD) failed; password hashing may keep memory");
        }
    }
}
