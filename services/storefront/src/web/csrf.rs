//! CSRF protection for every form: each POST must carry the session's token in its `csrf`
//! field. Checked once here for all routes, so no form can forget it.

use poem::{Endpoint, IntoResponse, Middleware, Request, Response, http::Method};
use subtle::ConstantTimeEq as _;

use super::{page::PageError, session::Session};

/// Largest form body accepted (product descriptions are at most 5000 characters).
const MAX_FORM_BYTES: usize = 64 * 1024;

/// Rejects state-changing requests without the session's CSRF token.
pub struct CsrfGuard;

impl<E: Endpoint> Middleware<E> for CsrfGuard {
    type Output = CsrfEndpoint<E>;
    fn transform(&self, inner: E) -> Self::Output {
        CsrfEndpoint { inner }
    }
}

/// The endpoint produced by [`CsrfGuard`].
pub struct CsrfEndpoint<E> {
    inner: E,
}

fn token_matches(body: &[u8], expected: &str) -> bool {
    let fields: Vec<(String, String)> = serde_urlencoded::from_bytes(body).unwrap_or_default();
    fields.iter().any(|(name, value)| name == "csrf" && bool::from(value.as_bytes().ct_eq(expected.as_bytes())))
}

impl<E: Endpoint> Endpoint for CsrfEndpoint<E> {
    type Output = Response;

    async fn call(&self, mut req: Request) -> poem::Result<Response> {
        if req.method() != Method::GET && req.method() != Method::HEAD {
            let expected = req.extensions().get::<Session>().map(|s| s.csrf.clone());
            let body = req.take_body().into_bytes_limit(MAX_FORM_BYTES).await;
            let Ok(body) = body else {
                return Ok(Response::builder()
                    .status(poem::http::StatusCode::PAYLOAD_TOO_LARGE)
                    .body("form too large"));
            };
            match expected {
                Some(expected) if token_matches(&body, &expected) => req.set_body(body),
                _ => {
                    tracing::warn!(path = %req.uri().path(), "form rejected: missing or wrong CSRF token");
                    return Ok(PageError::Csrf.into_response());
                }
            }
        }
        self.inner.call(req).await.map(IntoResponse::into_response)
    }
}
