//! Calls to other microshop services.
//!
//! Every call has a deadline (a slow dependency becomes a fast 503, never a hung request);
//! only idempotent methods (GET, PUT, DELETE) are retried, with exponential backoff inside the
//! deadline; each call carries a `service` token from the client-credentials grant, cached
//! until shortly before it expires; and each attempt is a client span whose W3C trace context
//! is injected into the request, so the callee's spans join the caller's trace.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use backon::{ExponentialBuilder, Retryable as _};
use reqwest::{Method, StatusCode};
use serde::{Serialize, de::DeserializeOwned};
use tokio::sync::Mutex;

use tracing::Instrument as _;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

use crate::{config::Secret, problem::Problem, telemetry::propagation};

/// Default time budget of one call, retries included.
pub const DEFAULT_CALL_BUDGET: Duration = Duration::from_millis(800);
/// A cached token is renewed when it has less than this left.
const TOKEN_RENEW_MARGIN: Duration = Duration::from_secs(30);

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The service could not be reached or answered 5xx within the budget: retry later.
    #[error("{service} is unavailable: {reason}")]
    Unavailable {
        service: &'static str,
        /// What happened (connection refused, timeout, status).
        reason: String,
        /// How long the service asked callers to wait (`Retry-After` on a 503, in seconds).
        retry_after: Option<Duration>,
    },
    /// The service answered with a client error; its problem body when it sent one.
    #[error("{service} answered {status}")]
    Rejected {
        service: &'static str,
        status: StatusCode,
        /// The problem details, if the body was one (boxed: errors stay small to pass around).
        problem: Option<Box<Problem>>,
        /// When a 429 said when to come back (`Retry-After`, seconds form).
        retry_after: Option<Duration>,
    },
    /// The answer could not be decoded: a contract mismatch between services.
    #[error("{service} sent an unexpected body: {reason}")]
    Decode {
        service: &'static str,
        /// The decoding error.
        reason: String,
    },
}

/// Obtains and caches service tokens from a client-credentials token endpoint (`POST` with
/// `client_id` and `client_secret`, answering `access_token` and `expires_in`). The caller
/// names the endpoint: the kit knows the grant, not which service issues the tokens.
pub struct TokenSource {
    http: reqwest::Client,
    issuer: &'static str,
    token_url: String,
    client_id: String,
    client_secret: Secret<String>,
    cached: Mutex<Option<(String, Instant)>>,
}

impl std::fmt::Debug for TokenSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSource").field("client_id", &self.client_id).finish_non_exhaustive()
    }
}

#[derive(serde::Deserialize)]
struct TokenBody {
    access_token: String,
    expires_in: u64,
}

impl TokenSource {
    /// A token source for `client_id` at `token_url`, the token endpoint's full URL, of the
    /// service named `issuer` (the name its errors carry).
    pub fn at(
        issuer: &'static str,
        token_url: impl Into<String>,
        client_id: String,
        client_secret: Secret<String>,
    ) -> Self {
        Self {
            http: reqwest::Client::new(),
            issuer,
            token_url: token_url.into(),
            client_id,
            client_secret,
            cached: Mutex::new(None),
        }
    }

    /// A valid token: the cached one while it has more than 30 s left, else a fresh one.
    pub async fn token(&self) -> Result<String, ClientError> {
        let mut cached = self.cached.lock().await;
        if let Some((token, renew_at)) = cached.as_ref()
            && Instant::now() < *renew_at
        {
            return Ok(token.clone());
        }
        let unavailable = |reason: String| ClientError::Unavailable { service: self.issuer, reason, retry_after: None };
        let response = self
            .http
            .post(&self.token_url)
            .timeout(DEFAULT_CALL_BUDGET)
            .json(&serde_json::json!({"client_id": self.client_id, "client_secret": self.client_secret.expose()}))
            .send()
            .await
            .map_err(|e| unavailable(e.to_string()))?;
        let status = response.status();
        if !status.is_success() {
            return Err(if status.is_server_error() {
                unavailable(format!("token endpoint answered {status}"))
            } else {
                ClientError::Rejected { service: self.issuer, status, problem: None, retry_after: None }
            });
        }
        let body: TokenBody =
            response.json().await.map_err(|e| ClientError::Decode { service: self.issuer, reason: e.to_string() })?;
        let lifetime = Duration::from_secs(body.expires_in).saturating_sub(TOKEN_RENEW_MARGIN);
        *cached = Some((body.access_token.clone(), Instant::now() + lifetime));
        Ok(body.access_token)
    }

    /// Drops the cached token (after a 401, e.g. when the signing key rotated).
    pub async fn invalidate(&self) {
        *self.cached.lock().await = None;
    }
}

/// Whose authority a call carries.
#[derive(Clone, Debug)]
enum Credentials {
    /// The calling service's own token (client-credentials grant).
    Service(Arc<TokenSource>),
    /// A user's token, for a front end acting on behalf of a logged-in user.
    Bearer(Arc<Secret<String>>),
    /// No token: public operations (catalogue reads, registration, log-in).
    Anonymous,
}

/// A client for one other service.
#[derive(Clone, Debug)]
pub struct ServiceClient {
    service: &'static str,
    base_url: String,
    /// `server.address` and `server.port` of the base URL, for spans and metrics.
    address: Arc<str>,
    port: u16,
    http: reqwest::Client,
    credentials: Credentials,
    budget: Duration,
}

impl ServiceClient {
    /// A client for `service` at `base_url`, authenticating with `tokens`.
    pub fn new(service: &'static str, base_url: &str, tokens: Arc<TokenSource>) -> Self {
        Self::with_credentials(service, base_url, Credentials::Service(tokens))
    }

    /// A client for `service` at `base_url` that sends no token, for public operations. Use
    /// [`ServiceClient::as_user`] for calls on behalf of a logged-in user.
    pub fn anonymous(service: &'static str, base_url: &str) -> Self {
        Self::with_credentials(service, base_url, Credentials::Anonymous)
    }

    fn with_credentials(service: &'static str, base_url: &str, credentials: Credentials) -> Self {
        let parsed = reqwest::Url::parse(base_url).ok();
        let address =
            parsed.as_ref().and_then(|u| u.host_str().map(str::to_owned)).unwrap_or_else(|| service.to_owned());
        let port = parsed.as_ref().and_then(reqwest::Url::port_or_known_default).unwrap_or(80);
        Self {
            service,
            base_url: base_url.trim_end_matches('/').to_owned(),
            address: address.into(),
            port,
            http: reqwest::Client::new(),
            credentials,
            budget: DEFAULT_CALL_BUDGET,
        }
    }

    /// The same client, calling with a user's access token (a front end acting for the user
    /// it holds a session for). Cheap: the connection pool is shared.
    pub fn as_user(&self, access_token: &Secret<String>) -> Self {
        Self { credentials: Credentials::Bearer(Arc::new(access_token.clone())), ..self.clone() }
    }

    /// The same client with another time budget per call.
    pub fn with_budget(mut self, budget: Duration) -> Self {
        self.budget = budget;
        self
    }

    /// `GET path`, decoded.
    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        self.call(Method::GET, path, None::<&()>, None).await?.decode(self.service)
    }

    /// `PUT path` with a JSON body, decoded.
    pub async fn put<B: Serialize, T: DeserializeOwned>(&self, path: &str, body: &B) -> Result<T, ClientError> {
        self.call(Method::PUT, path, Some(body), None).await?.decode(self.service)
    }

    /// `PATCH path` with a JSON body, decoded. Not retried: a partial update is not
    /// idempotent in general.
    pub async fn patch<B: Serialize, T: DeserializeOwned>(&self, path: &str, body: &B) -> Result<T, ClientError> {
        self.call(Method::PATCH, path, Some(body), None).await?.decode(self.service)
    }

    /// `DELETE path`; the body, if any, is ignored.
    pub async fn delete(&self, path: &str) -> Result<(), ClientError> {
        self.call(Method::DELETE, path, None::<&()>, None).await.map(|_| ())
    }

    /// `POST path` with a JSON body and an optional `Idempotency-Key`. Retried only when an
    /// idempotency key makes the retry safe.
    pub async fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
        idempotency_key: Option<&str>,
    ) -> Result<T, ClientError> {
        self.call(Method::POST, path, Some(body), idempotency_key).await?.decode(self.service)
    }

    async fn call<B: Serialize>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
        idempotency_key: Option<&str>,
    ) -> Result<Answer, ClientError> {
        let deadline = Instant::now() + self.budget;
        let retryable = matches!(method, Method::GET | Method::PUT | Method::DELETE) || idempotency_key.is_some();
        // Exponential from 25 ms with jitter, so callers that failed together do not retry
        // together; the budget, not a count, ends the retries.
        let backoff = ExponentialBuilder::default()
            .with_min_delay(Duration::from_millis(25))
            .with_factor(2.0)
            .with_jitter()
            .without_max_times();
        let attempt = || async {
            let remaining = deadline.saturating_duration_since(Instant::now());
            self.attempt(&method, path, body, idempotency_key, remaining).await
        };
        attempt
            .retry(backoff)
            .sleep(tokio::time::sleep)
            .when(|error| retryable && matches!(error, ClientError::Unavailable { .. }))
            .adjust(|error, proposed| {
                // A service that says when to come back is not asked sooner; a wait that
                // would end past the budget is not started.
                let asked = match error {
                    ClientError::Unavailable { retry_after, .. } => *retry_after,
                    _ => None,
                };
                let wait = proposed?.max(asked.unwrap_or_default());
                (Instant::now() + wait < deadline).then_some(wait)
            })
            .await
    }

    async fn attempt<B: Serialize>(
        &self,
        method: &Method,
        path: &str,
        body: Option<&B>,
        idempotency_key: Option<&str>,
        timeout: Duration,
    ) -> Result<Answer, ClientError> {
        let unavailable =
            |reason: String| ClientError::Unavailable { service: self.service, reason, retry_after: None };
        if timeout.is_zero() {
            return Err(unavailable("no time left for the call".into()));
        }
        let token = match &self.credentials {
            Credentials::Service(tokens) => Some(
                tokio::time::timeout(timeout, tokens.token())
                    .await
                    .map_err(|_| unavailable("timed out getting a service token".into()))??,
            ),
            Credentials::Bearer(token) => Some(token.expose().clone()),
            Credentials::Anonymous => None,
        };
        let url = format!("{}{}", self.base_url, path);
        // The client span; its context goes into the request headers, so the callee's server
        // span becomes its child. The URL holds ids only, never secrets. `server.address` is
        // the host called (the conventions' meaning); the logical name is `peer.service`,
        // which Jaeger draws its service graph from.
        let span = tracing::info_span!(
            "HTTP client",
            otel.name = %method,
            otel.kind = "client",
            otel.status_code = tracing::field::Empty,
            http.request.method = %method,
            server.address = &*self.address,
            server.port = self.port,
            peer.service = self.service,
            url.full = %url,
            http.response.status_code = tracing::field::Empty,
            error.type = tracing::field::Empty,
        );
        let started = std::time::Instant::now();
        let mut request = self.http.request(method.clone(), &url).timeout(timeout);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let mut headers = reqwest::header::HeaderMap::new();
        propagation::inject(&span.context(), &mut headers);
        request = request.headers(headers);
        if let Some(key) = idempotency_key {
            request = request.header("Idempotency-Key", key);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let outcome = async {
            let response = request.send().await.map_err(|e| unavailable(send_error(&e)))?;
            let status = response.status();
            tracing::Span::current().record("http.response.status_code", status.as_u16());
            let headers = response.headers().clone();
            let bytes = response.bytes().await.map_err(|e| unavailable(send_error(&e)))?;
            Ok::<_, ClientError>((status, headers, bytes))
        }
        .instrument(span.clone())
        .await;
        let exemplar = crate::telemetry::exporting().then(|| crate::telemetry::trace_id_of(&span)).flatten();
        let measure = |outcome| {
            let (address, port) = (&self.address, self.port);
            crate::metrics::record_client_request(method.as_str(), address, port, outcome, started.elapsed(), exemplar);
        };
        let (status, headers, bytes) = match outcome {
            Ok(answer) => answer,
            Err(err) => {
                // A request that got no status: timed out, refused, reset.
                let kind = if matches!(&err, ClientError::Unavailable { reason, .. } if reason.starts_with("timed out"))
                {
                    "timeout"
                } else {
                    "connection_error"
                };
                span.record("otel.status_code", "ERROR");
                span.record("error.type", kind);
                measure(crate::metrics::ClientOutcome::Error(kind));
                return Err(err);
            }
        };
        measure(crate::metrics::ClientOutcome::Status(status.as_u16()));
        if !status.is_success() {
            span.record("error.type", status.as_str());
        }
        if status.is_success() {
            return Ok(Answer(bytes.to_vec()));
        }
        if status.is_server_error() {
            span.record("otel.status_code", "ERROR");
            let retry_after = (status == StatusCode::SERVICE_UNAVAILABLE).then(|| retry_after(&headers)).flatten();
            return Err(ClientError::Unavailable {
                service: self.service,
                reason: format!("answered {status}"),
                retry_after,
            });
        }
        if let (StatusCode::UNAUTHORIZED, Credentials::Service(tokens)) = (status, &self.credentials) {
            tokens.invalidate().await;
        }
        let problem = serde_json::from_slice::<Problem>(&bytes).ok().map(Box::new);
        let retry_after = (status == StatusCode::TOO_MANY_REQUESTS).then(|| retry_after(&headers)).flatten();
        Err(ClientError::Rejected { service: self.service, status, problem, retry_after })
    }
}

/// The reason of a failed send, starting with "timed out" when it did (the client span's
/// `error.type` is read from it).
fn send_error(error: &reqwest::Error) -> String {
    if error.is_timeout() { format!("timed out: {error}") } else { error.to_string() }
}

/// `Retry-After` in its seconds form (the HTTP-date form is not used between services).
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let seconds = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?.trim().parse().ok()?;
    Some(Duration::from_secs(seconds))
}

/// A successful answer's body.
struct Answer(Vec<u8>);

impl Answer {
    fn decode<T: DeserializeOwned>(self, service: &'static str) -> Result<T, ClientError> {
        // An empty body (204) decodes as `null`, which suits `()` and `Option`.
        let bytes = if self.0.is_empty() { b"null".to_vec() } else { self.0 };
        serde_json::from_slice(&bytes).map_err(|e| ClientError::Decode { service, reason: e.to_string() })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    use super::*;

    /// A server that answers its first `unavailable` requests 503 with `Retry-After:
    /// <seconds>`, then 200 `{}`; returns its URL and its request count.
    async fn flaky_server(unavailable: usize, seconds: u64) -> (String, Arc<AtomicUsize>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let count = Arc::new(AtomicUsize::new(0));
        let seen = count.clone();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let mut request = [0_u8; 4096];
                let _ = socket.read(&mut request).await;
                let answer = if seen.fetch_add(1, SeqCst) < unavailable {
                    format!(
                        "HTTP/1.1 503 Service Unavailable\r\nretry-after: {seconds}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                    )
                } else {
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}".to_owned()
                };
                let _ = socket.write_all(answer.as_bytes()).await;
            }
        });
        (url, count)
    }

    #[tokio::test]
    async fn a_503_with_retry_after_is_retried_no_sooner_than_asked() {
        let (url, count) = flaky_server(1, 1).await;
        let client = ServiceClient::anonymous("flaky", &url).with_budget(Duration::from_secs(3));
        let started = Instant::now();
        let answer: serde_json::Value = client.get("/thing").await.expect("the retry succeeds");
        assert_eq!(answer, serde_json::json!({}));
        assert_eq!(count.load(SeqCst), 2);
        assert!(started.elapsed() >= Duration::from_secs(1), "waited {:?}", started.elapsed());
    }

    #[tokio::test]
    async fn a_retry_after_beyond_the_budget_fails_at_once() {
        let (url, count) = flaky_server(usize::MAX, 5).await;
        let client = ServiceClient::anonymous("flaky", &url);
        let started = Instant::now();
        match client.get::<serde_json::Value>("/thing").await {
            Err(ClientError::Unavailable { retry_after, .. }) => assert_eq!(retry_after, Some(Duration::from_secs(5))),
            other => panic!("expected Unavailable, got {other:?}"),
        }
        assert_eq!(count.load(SeqCst), 1, "no retry that could not finish in the budget");
        assert!(started.elapsed() < DEFAULT_CALL_BUDGET, "{:?}", started.elapsed());
    }

    #[tokio::test]
    async fn without_retry_after_the_budget_is_spent_on_jittered_retries() {
        let (url, count) = flaky_server(usize::MAX, 0).await;
        let client = ServiceClient::anonymous("flaky", &url);
        let started = Instant::now();
        assert!(client.get::<serde_json::Value>("/thing").await.is_err());
        let attempts = count.load(SeqCst);
        assert!((3..=8).contains(&attempts), "{attempts} attempts in the 800 ms budget");
        assert!(started.elapsed() < DEFAULT_CALL_BUDGET + Duration::from_millis(200), "{:?}", started.elapsed());
    }

    #[tokio::test]
    async fn token_errors_name_the_issuer_the_caller_gave() {
        // Nothing listens on port 1: the call fails fast, and the error says whose endpoint it was.
        let tokens =
            TokenSource::at("identity", "http://127.0.0.1:1/oauth/token", "orders".into(), Secret::new("s".into()));
        match tokens.token().await {
            Err(ClientError::Unavailable { service, .. }) => assert_eq!(service, "identity"),
            other => panic!("expected Unavailable from the named issuer, got {other:?}"),
        }
    }
}
