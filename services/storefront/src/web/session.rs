//! The session of each browser: an opaque random id in an `HttpOnly`, `SameSite=Lax` cookie
//! (`Secure` behind TLS), everything else in the `sessions` table. [`SessionLayer`] loads or
//! creates it before the page's server span starts, so it can also continue the trace of a
//! purchase in progress.

use std::time::Duration;

use base64::Engine as _;
use poem::{
    Endpoint, IntoResponse, Middleware, Request, Response,
    http::{HeaderValue, Method},
    web::cookie::{Cookie, SameSite},
};
use shopkit::config::Secret;
use sqlx::PgPool;
use uuid::Uuid;

use super::{AppState, renewal, seal};
use crate::store::{
    carts::CartOwner,
    sessions::{self, SessionRow},
};

/// Name of the session cookie.
pub const COOKIE_NAME: &str = "sf_session";
/// How long a session lives (a logged-in one also ends when users refuses its refresh token).
pub const SESSION_TTL: Duration = Duration::from_secs(7 * 24 * 3600);
/// A purchase's page views join its trace for at most this long after checkout.
const PURCHASE_TRACE_WINDOW: chrono::Duration = chrono::Duration::minutes(30);

/// The logged-in account of a session.
#[derive(Debug, Clone)]
pub struct SessionUser {
    /// Account id.
    pub id: Uuid,
    /// Display name.
    pub name: String,
    /// Staff may use the admin pages.
    pub is_admin: bool,
    /// The access token, for calls on the user's behalf; never rendered.
    pub token: Secret<String>,
    /// The refresh token, opened for this request (log-out revokes it); never rendered.
    pub refresh_token: Option<Secret<String>>,
}

/// What handlers know about the browser they answer.
#[derive(Debug, Clone)]
pub struct Session {
    /// SHA-256 of the cookie value: the row's key.
    pub id_hash: Vec<u8>,
    /// The token every form carries back.
    pub csrf: String,
    /// The account, when logged in.
    pub user: Option<SessionUser>,
    /// A notice to show once.
    pub flash: Option<String>,
}

impl Session {
    /// Whose cart this browser sees.
    pub fn cart_owner(&self) -> CartOwner {
        match &self.user {
            Some(user) => CartOwner::User(user.id),
            None => CartOwner::Session(self.id_hash.clone()),
        }
    }

    fn from_row(row: SessionRow, cookie_value: &str) -> Self {
        let refresh_token = row.refresh_sealed.as_deref().and_then(|sealed| seal::open(cookie_value, sealed).ok());
        let user = match (row.user_id, row.access_token) {
            (Some(id), Some(token)) => Some(SessionUser {
                id,
                name: row.user_name.unwrap_or_default(),
                is_admin: row.user_role.as_deref() == Some("admin"),
                token: Secret::new(token),
                refresh_token: refresh_token.map(Secret::new),
            }),
            _ => None,
        };
        Self { id_hash: row.id_hash, csrf: row.csrf_token, user, flash: row.flash }
    }
}

/// A fresh random token (32 bytes, base64url): session ids and CSRF tokens.
pub fn random_token() -> Result<String, ring::error::Unspecified> {
    let mut bytes = [0u8; 32];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes)?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

/// The database key of a cookie value.
pub fn hash_id(cookie_value: &str) -> Vec<u8> {
    ring::digest::digest(&ring::digest::SHA256, cookie_value.as_bytes()).as_ref().to_vec()
}

/// The session cookie for an id: site-wide, out of scripts' reach, not sent on cross-site
/// subrequests, living as long as the session, and `Secure` when the shop is served over TLS.
pub fn cookie(value: &str, secure: bool) -> Cookie {
    let mut cookie = Cookie::new_with_str(COOKIE_NAME, value);
    cookie.set_path("/");
    cookie.set_http_only(true);
    cookie.set_same_site(SameSite::Lax);
    cookie.set_max_age(SESSION_TTL);
    cookie.set_secure(secure);
    cookie
}

/// The session id the browser sent, from the jar of [`poem::middleware::CookieJarManager`];
/// only the length of a [`random_token`] can be one.
fn cookie_value(req: &Request) -> Option<String> {
    req.cookie().get(COOKIE_NAME).map(|cookie| cookie.value_str().to_owned()).filter(|value| value.len() == 43)
}

/// Requests that need no session: assets, pictures, probes and metrics.
fn sessionless(path: &str) -> bool {
    ["/static/", "/images/", "/health/", "/metrics", "/favicon"].iter().any(|p| path.starts_with(p))
}

/// The pages of a purchase after checkout: they continue the checkout's trace.
fn in_purchase(path: &str) -> bool {
    path.starts_with("/orders/") && path.ends_with("/pay")
}

/// Loads or creates the session, renews a log-in's tokens when due, continues a purchase's
/// trace, sets the cookie, and adds the security headers every page gets.
pub struct SessionLayer {
    /// The storefront's database, users (for renewals) and whether cookies are `Secure`.
    pub state: AppState,
}

impl<E: Endpoint> Middleware<E> for SessionLayer {
    type Output = SessionEndpoint<E>;
    fn transform(&self, inner: E) -> Self::Output {
        SessionEndpoint { inner, pool: self.state.pool.clone(), state: self.state.clone() }
    }
}

/// The endpoint produced by [`SessionLayer`].
pub struct SessionEndpoint<E> {
    inner: E,
    pool: PgPool,
    state: AppState,
}

/// Why a session could not be loaded or started (the page answers 503 either way).
#[derive(Debug, thiserror::Error)]
enum SessionError {
    /// The session store is unreachable.
    #[error("session store: {0}")]
    Database(#[from] sqlx::Error),
    /// The system random generator failed (no id can be issued safely).
    #[error("system random generator failed")]
    Random,
    /// The log-in's tokens could not be renewed.
    #[error(transparent)]
    Renewal(#[from] renewal::RenewalError),
}

/// A session as loaded: its row, the cookie value (its key), and whether the cookie is new.
struct Loaded {
    row: SessionRow,
    cookie_value: String,
    new: bool,
}

impl<E: Endpoint> SessionEndpoint<E> {
    async fn load_or_create(&self, req: &Request) -> Result<Loaded, SessionError> {
        let page_view = req.method() == Method::GET;
        let mut conn = self.pool.acquire().await?;
        if let Some(value) = cookie_value(req)
            && let Some(row) = sessions::load(&mut conn, &hash_id(&value), page_view).await?
        {
            drop(conn);
            let row = renewal::renew_if_due(&self.state, row, &value, page_view).await?;
            return Ok(Loaded { row, cookie_value: value, new: false });
        }
        let value = random_token().map_err(|_| SessionError::Random)?;
        let csrf = random_token().map_err(|_| SessionError::Random)?;
        let ttl = chrono::Duration::from_std(SESSION_TTL).unwrap_or(chrono::Duration::days(7));
        let row = sessions::create(&mut conn, &hash_id(&value), &csrf, ttl).await?;
        Ok(Loaded { row, cookie_value: value, new: true })
    }
}

impl<E: Endpoint> Endpoint for SessionEndpoint<E> {
    type Output = Response;

    async fn call(&self, mut req: Request) -> poem::Result<Response> {
        if sessionless(req.uri().path()) {
            return self.inner.call(req).await.map(IntoResponse::into_response);
        }
        let Loaded { row, cookie_value, new } = match self.load_or_create(&req).await {
            Ok(loaded) => loaded,
            Err(err) => {
                tracing::error!(error = %err, "no session for this request");
                return Ok(crate::web::page::PageError::Unavailable.into_response());
            }
        };
        let purchase_live = row.purchase_started.is_some_and(|t| chrono::Utc::now() - t < PURCHASE_TRACE_WINDOW);
        if let (true, Some(traceparent)) = (purchase_live && in_purchase(req.uri().path()), &row.purchase_trace)
            && !req.headers().contains_key("traceparent")
            && let Ok(value) = HeaderValue::from_str(traceparent)
        {
            req.headers_mut().insert("traceparent", value);
        }
        req.extensions_mut().insert(Session::from_row(row, &cookie_value));
        if new {
            // A page that logs in replaces it in the jar: the browser gets one Set-Cookie.
            req.cookie().add(cookie(&cookie_value, self.state.secure_cookies));
        }
        let mut response = self.inner.call(req).await.map(IntoResponse::into_response)?;
        let headers = response.headers_mut();
        for (name, value) in [
            (
                "content-security-policy",
                "default-src 'self'; img-src 'self' https: data:; style-src 'self'; script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
            ),
            ("x-content-type-options", "nosniff"),
            ("referrer-policy", "same-origin"),
            ("cache-control", "no-store"),
        ] {
            headers.insert(name, HeaderValue::from_static(value));
        }
        Ok(response)
    }
}
