//! Keeping a shopper logged in: before a page uses an access token that is about to expire, the
//! session layer exchanges the session's refresh token at users for a new pair. A refused
//! refresh token (revoked by a log-out elsewhere or a password change, expired, reused) ends
//! the log-in and the page says so; users being unreachable ends nothing.

use chrono::{Duration, Utc};
use serde_json::json;
use shopkit::client::ClientError;

use super::{AppState, seal};
use crate::{
    clients::TokenBody,
    store::sessions::{self, Renewed, SessionRow},
};

/// A token expiring within this is renewed first, so it cannot run out in the middle of a page
/// (a checkout calls three services).
const RENEW_AHEAD: Duration = Duration::seconds(60);

/// What the shopper reads when the log-in has ended for good.
pub const ENDED_NOTICE: &str = "Your session has ended, so you are no longer logged in. Please log in again.";

/// Why a renewal could not be made.
#[derive(Debug, thiserror::Error)]
pub enum RenewalError {
    #[error("session store: {0}")]
    Database(#[from] sqlx::Error),
}

/// What users said to a refresh.
enum Answer {
    /// A new access token and its successor refresh token.
    Tokens(TokenBody),
    /// The refresh token is no good: the log-in is over.
    Refused,
    /// No answer now (users down, slow, a 5xx): try again on the next request.
    Unavailable(ClientError),
}

/// Whether `row` is a log-in whose access token needs renewing now.
fn due(row: &SessionRow) -> bool {
    row.user_id.is_some()
        && row.refresh_sealed.is_some()
        && row.token_expires_at.is_some_and(|expires| expires - Utc::now() < RENEW_AHEAD)
}

/// `row` as a guest's session, with `flash` shown on this page when it is a page view.
fn as_guest(mut row: SessionRow, flash: Option<&str>) -> SessionRow {
    row.user_id = None;
    row.user_name = None;
    row.user_role = None;
    row.access_token = None;
    row.token_expires_at = None;
    row.refresh_sealed = None;
    if let Some(flash) = flash {
        row.flash = Some(flash.to_owned());
    }
    row
}

/// Renews the tokens of `row` if they are about to expire; returns the session as this request
/// should see it. `cookie_value` opens the sealed refresh token; `page_view` says whether the
/// notice of an ended log-in is shown now (a page) or kept for the next page (a form post).
pub async fn renew_if_due(
    state: &AppState,
    row: SessionRow,
    cookie_value: &str,
    page_view: bool,
) -> Result<SessionRow, RenewalError> {
    if !due(&row) {
        return Ok(row);
    }
    let mut tx = state.pool.begin().await?;
    // Another request of this browser may have renewed the tokens while this one waited.
    let Some(mut current) = sessions::lock_for_renewal(&mut tx, &row.id_hash).await? else { return Ok(row) };
    current.flash = row.flash.clone();
    if !due(&current) {
        return Ok(current);
    }
    let answer = match current.refresh_sealed.as_deref().map(|sealed| seal::open(cookie_value, sealed)) {
        Some(Ok(token)) => {
            match state
                .backends
                .users
                .post::<_, TokenBody>("/auth/refresh", &json!({"refresh_token": token}), None)
                .await
            {
                Ok(tokens) => Answer::Tokens(tokens),
                Err(ClientError::Rejected { status, .. }) if status == 401 => Answer::Refused,
                Err(err) => Answer::Unavailable(err),
            }
        }
        Some(Err(err)) => {
            tracing::warn!(error = %err, "the session's refresh token does not open");
            Answer::Refused
        }
        None => Answer::Refused,
    };
    match answer {
        Answer::Tokens(tokens) => match store_tokens(state, &mut tx, &current, cookie_value, &tokens).await? {
            Some(renewed) => {
                tx.commit().await?;
                tracing::info!(user_id = ?renewed.user_id, "session renewed");
                Ok(renewed)
            }
            None => Ok(still_usable(current)),
        },
        Answer::Refused => {
            sessions::end_login(&mut tx, &current.id_hash, (!page_view).then_some(ENDED_NOTICE)).await?;
            tx.commit().await?;
            tracing::info!(user_id = ?current.user_id, "the log-in ended: refresh token refused");
            Ok(as_guest(current, page_view.then_some(ENDED_NOTICE)))
        }
        Answer::Unavailable(err) => {
            tracing::warn!(error = %err, "cannot renew the session's tokens now");
            Ok(still_usable(current))
        }
    }
}

/// A session whose renewal failed for now: still logged in while its token lasts, a guest for
/// this request once it has run out (the next request tries again).
fn still_usable(row: SessionRow) -> SessionRow {
    if row.token_expires_at.is_some_and(|expires| expires > Utc::now()) { row } else { as_guest(row, None) }
}

/// Checks and stores the tokens users answered; `None` when they cannot be used (logged).
async fn store_tokens(
    state: &AppState,
    tx: &mut sqlx::PgConnection,
    current: &SessionRow,
    cookie_value: &str,
    tokens: &TokenBody,
) -> Result<Option<SessionRow>, RenewalError> {
    let claims = match state.verifier.verify(&tokens.access_token) {
        Ok(claims) => claims,
        Err(err) => {
            tracing::error!(error = %err, "users answered a refresh with a token that does not verify");
            return Ok(None);
        }
    };
    let Some(sealed) = tokens.refresh_token.as_deref().and_then(|token| seal::seal(cookie_value, token).ok()) else {
        tracing::error!("users answered a refresh without a refresh token");
        return Ok(None);
    };
    let role = if claims.role == shopkit::auth::Role::Admin { "admin" } else { "customer" };
    let expires_at = chrono::DateTime::from_timestamp(claims.exp, 0).unwrap_or_else(Utc::now);
    let renewed = Renewed { role, access_token: &tokens.access_token, expires_at, refresh_sealed: &sealed };
    sessions::store_renewal(tx, &current.id_hash, &renewed).await?;
    let mut row = current.clone();
    row.user_role = Some(role.to_owned());
    row.access_token = Some(tokens.access_token.clone());
    row.token_expires_at = Some(expires_at);
    row.refresh_sealed = Some(sealed);
    Ok(Some(row))
}
