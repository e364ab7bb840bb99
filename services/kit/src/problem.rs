//! RFC 9457 problem details: the one error body every microshop endpoint returns.
//!
//! Handlers return `Result<TheirOkResponse, Refusal<TheirStatuses>>`: the error is an
//! [`ApiError`], and [`Refusal`] lists in the generated OpenAPI spec only the statuses that
//! operation can return (declared with [`statuses!`](crate::statuses)), with the
//! `application/problem+json` media type, instead of hiding them behind `poem::Result`.

use poem_openapi::{ApiResponse, Object, payload::Json, types::ToJSON};

/// Media type of every error body (RFC 9457 section 3).
pub const PROBLEM_CONTENT_TYPE: &str = "application/problem+json";

/// A problem details document. `type` is a URI naming the kind of problem so clients can
/// branch on it without parsing `title`; `detail` is for humans.
#[derive(Debug, Clone, PartialEq, Object, serde::Deserialize)]
pub struct Problem {
    /// URI identifying the problem type, e.g. `https://microshop.dev/problems/not-found`.
    #[oai(rename = "type")]
    #[serde(rename = "type")]
    pub problem_type: String,
    /// Short summary of the problem type; the same for every occurrence of that type.
    pub title: String,
    /// The HTTP status code, repeated here so the body stands alone.
    pub status: u16,
    /// Explanation specific to this occurrence.
    pub detail: String,
    /// Field-level errors for a validation failure (422), one entry per rejected field.
    #[oai(skip_serializing_if_is_none)]
    #[serde(default)]
    pub errors: Option<Vec<FieldError>>,
}

/// One rejected input field, named as the client sent it (JSON field or query parameter).
#[derive(Debug, Clone, PartialEq, Object, serde::Deserialize)]
pub struct FieldError {
    /// Name of the field, e.g. `price` or `items[2].quantity`.
    pub field: String,
    /// Why the value was rejected.
    pub message: String,
}

impl FieldError {
    /// A field error; `field` is the name the client used.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: field.into(), message: message.into() }
    }
}

impl Problem {
    /// A problem of a given status, with `type` and `title` derived from the status.
    pub fn new(status: u16, detail: impl Into<String>) -> Self {
        let (slug, title) = describe_status(status);
        Self {
            problem_type: format!("https://microshop.dev/problems/{slug}"),
            title: title.to_owned(),
            status,
            detail: detail.into(),
            errors: None,
        }
    }
}

/// Slug used in the problem `type` URI and the title for each status we emit.
fn describe_status(status: u16) -> (&'static str, &'static str) {
    match status {
        400 => ("bad-request", "Bad request"),
        401 => ("unauthorized", "Authentication required"),
        402 => ("payment-required", "Payment failed"),
        403 => ("forbidden", "Forbidden"),
        404 => ("not-found", "Not found"),
        405 => ("method-not-allowed", "Method not allowed"),
        409 => ("conflict", "Conflict"),
        413 => ("payload-too-large", "Payload too large"),
        414 => ("uri-too-long", "Request target too long"),
        415 => ("unsupported-media-type", "Unsupported media type"),
        422 => ("validation", "Validation failed"),
        429 => ("too-many-requests", "Too many requests"),
        431 => ("headers-too-large", "Request headers too large"),
        503 => ("unavailable", "Service unavailable"),
        s if s >= 500 => ("internal", "Internal server error"),
        _ => ("client-error", "Client error"),
    }
}

/// The error responses of every operation. Each variant is one status; services map their
/// own error enums into this at the API edge.
#[derive(Debug, ApiResponse)]
pub enum ApiError {
    /// 400: the request could not be parsed (malformed JSON, wrong parameter type).
    #[oai(status = 400, content_type = "application/problem+json")]
    BadRequest(Json<Problem>),
    /// 401: no bearer token, or one that is invalid or expired.
    #[oai(status = 401, content_type = "application/problem+json")]
    Unauthorized(Json<Problem>),
    /// 402: the payment was declined; `detail` gives the reason.
    #[oai(status = 402, content_type = "application/problem+json")]
    PaymentRequired(Json<Problem>),
    /// 403: authenticated, but the role may not perform this operation.
    #[oai(status = 403, content_type = "application/problem+json")]
    Forbidden(Json<Problem>),
    /// 404: the resource does not exist (or is not visible to the caller).
    #[oai(status = 404, content_type = "application/problem+json")]
    NotFound(Json<Problem>),
    /// 409: the request conflicts with the current state (duplicate, insufficient stock).
    #[oai(status = 409, content_type = "application/problem+json")]
    Conflict(Json<Problem>),
    /// 422: the request is well-formed but some fields are invalid; `errors` lists them.
    #[oai(status = 422, content_type = "application/problem+json")]
    Unprocessable(Json<Problem>),
    /// 429: too many attempts; retry after the number of seconds in `Retry-After`.
    #[oai(status = 429, content_type = "application/problem+json")]
    TooManyRequests(Json<Problem>, #[oai(header = "Retry-After")] u64),
    /// 500: an unexpected failure; details are in the server logs, never in the body.
    #[oai(status = 500, content_type = "application/problem+json")]
    Internal(Json<Problem>),
    /// 503: a dependency (database, another service) is unavailable; retry later.
    #[oai(status = 503, content_type = "application/problem+json")]
    Unavailable(Json<Problem>),
}

impl ApiError {
    /// 400 with a detail.
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::BadRequest(Json(Problem::new(400, detail)))
    }
    /// 401 with a detail.
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::Unauthorized(Json(Problem::new(401, detail)))
    }
    /// 402 with a detail.
    pub fn payment_required(detail: impl Into<String>) -> Self {
        Self::PaymentRequired(Json(Problem::new(402, detail)))
    }
    /// 403 with a detail.
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::Forbidden(Json(Problem::new(403, detail)))
    }
    /// 404 with a detail.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::NotFound(Json(Problem::new(404, detail)))
    }
    /// 409 with a detail.
    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::Conflict(Json(Problem::new(409, detail)))
    }
    /// 422 listing the rejected fields.
    pub fn validation(errors: Vec<FieldError>) -> Self {
        let detail = errors.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; ");
        let mut problem = Problem::new(422, detail);
        problem.errors = Some(errors);
        Self::Unprocessable(Json(problem))
    }
    /// 422 for a single field.
    pub fn invalid_field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::validation(vec![FieldError::new(field, message)])
    }
    /// 429 telling the client how many seconds to wait.
    pub fn too_many_requests(detail: impl Into<String>, retry_after_secs: u64) -> Self {
        Self::TooManyRequests(Json(Problem::new(429, detail)), retry_after_secs)
    }
    /// 503 with a detail.
    pub fn unavailable(detail: impl Into<String>) -> Self {
        Self::Unavailable(Json(Problem::new(503, detail)))
    }
    /// 500: logs the cause in full and returns an opaque body, so internals never leak.
    pub fn internal(cause: &(dyn std::error::Error + 'static)) -> Self {
        tracing::error!(error = %cause, source = ?cause.source(), "internal error");
        Self::Internal(Json(Problem::new(500, "an unexpected error occurred")))
    }
}

impl From<sqlx::Error> for ApiError {
    /// A database error the handler did not map to a client error: 503 when the database
    /// is unreachable (the client may retry), otherwise an opaque 500.
    fn from(err: sqlx::Error) -> Self {
        match err {
            sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed => {
                tracing::warn!(error = %err, "database unavailable");
                Self::unavailable("the database is unavailable, retry later")
            }
            other => Self::internal(&other),
        }
    }
}

/// A problem-details response for any status, for the places outside typed handlers
/// (unknown routes, unparseable requests, failed authentication).
pub fn problem_response(status: poem::http::StatusCode, detail: impl Into<String>) -> poem::Response {
    let body = Problem::new(status.as_u16(), detail).to_json_string();
    poem::Response::builder().status(status).content_type(PROBLEM_CONTENT_TYPE).body(body)
}

/// Collects field errors while parsing a request, so a client learns about every bad field
/// in one 422 instead of one per round trip.
#[derive(Debug, Default)]
pub struct FieldErrors(Vec<FieldError>);

impl FieldErrors {
    /// Records the error of `result` under `field`; returns the value when it parsed.
    pub fn check<T>(&mut self, field: &str, result: Result<T, String>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(message) => {
                self.0.push(FieldError::new(field, message));
                None
            }
        }
    }

    /// Records an error that is not the result of a parse (a rule across fields).
    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError::new(field, message));
    }

    /// Whether nothing was rejected.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many fields were rejected.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The collected errors as a list.
    pub fn into_vec(self) -> Vec<FieldError> {
        self.0
    }
}

impl From<FieldErrors> for ApiError {
    fn from(errors: FieldErrors) -> Self {
        ApiError::validation(errors.into_vec())
    }
}

/// The error statuses one operation can return, as a type: see [`Refusal`] and [`statuses!`].
pub trait Statuses {
    /// The statuses, besides 500 and 503 which any operation may answer (a bug, a database
    /// or dependency outage), and those the request edge adds (400, 401, 413, 415, 422; see
    /// [`crate::edge::document_edge_rules`]).
    const LIST: &'static [u16];
}

/// Declares a [`Statuses`] type: `statuses!(CreateProductErrors = [403, 409, 422]);`.
#[macro_export]
macro_rules! statuses {
    ($(#[$meta:meta])* $name:ident = [$($status:literal),* $(,)?]) => {
        $(#[$meta])*
        pub struct $name;
        impl $crate::problem::Statuses for $name {
            const LIST: &'static [u16] = &[$($status),*];
        }
    };
}

/// The error response of one operation: an [`ApiError`] whose spec lists only the statuses of
/// `S` (plus 500 and 503), so each operation documents what it can return, not every status
/// of the shop. Handlers return `Result<Ok, Refusal<TheirStatuses>>` and use `?` on anything
/// that converts into an [`ApiError`]; schemathesis' status-code check holds the lists true.
pub struct Refusal<S>(pub ApiError, std::marker::PhantomData<S>);

impl<S, E: Into<ApiError>> From<E> for Refusal<S> {
    fn from(err: E) -> Self {
        Self(err.into(), std::marker::PhantomData)
    }
}

impl<S: Statuses> ApiResponse for Refusal<S> {
    fn meta() -> poem_openapi::registry::MetaResponses {
        let mut meta = ApiError::meta();
        meta.responses.retain(|r| r.status.is_some_and(|s| s == 500 || s == 503 || S::LIST.contains(&s)));
        meta
    }

    fn register(registry: &mut poem_openapi::registry::Registry) {
        ApiError::register(registry);
    }
}

impl<S: Send> poem::IntoResponse for Refusal<S> {
    fn into_response(self) -> poem::Response {
        self.0.into_response()
    }
}

impl<S> From<Refusal<S>> for poem::Error {
    fn from(refusal: Refusal<S>) -> Self {
        refusal.0.into()
    }
}
