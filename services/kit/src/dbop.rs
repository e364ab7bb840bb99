//! Database operations as the semantic conventions describe them: one client span and one
//! `db.client.operation.duration` measurement per store function, with the stable attributes.
//!
//! A store function wraps its body in [`traced`] with the operation's query summary
//! (`"SELECT users"`, `"UPDATE products INSERT reservations"` for a transaction of several
//! statements). The summary names the span; its first word is `db.operation.name`. The summary
//! is written by hand beside the SQL, never derived from values: parameters stay out of spans.
//! `db.namespace`, `server.address` and `server.port` come from the service's `DATABASE_URL`
//! ([`set_target`], called when the pool is built).

use std::{future::Future, sync::OnceLock, time::Instant};

use opentelemetry::KeyValue;
use opentelemetry_semantic_conventions::attribute as attr;
use tracing::Instrument as _;

/// The database every operation of this process goes to.
#[derive(Debug, Clone)]
struct Target {
    namespace: String,
    address: String,
    port: u16,
}

static TARGET: OnceLock<Target> = OnceLock::new();

/// Records the database the process talks to (the first one set wins: a service has one).
pub fn set_target(namespace: &str, address: &str, port: u16) {
    let _ = TARGET.set(Target { namespace: namespace.to_owned(), address: address.to_owned(), port });
}

fn target() -> &'static Target {
    static UNKNOWN: OnceLock<Target> = OnceLock::new();
    TARGET.get().unwrap_or_else(|| {
        UNKNOWN.get_or_init(|| Target { namespace: String::new(), address: "localhost".into(), port: 5432 })
    })
}

/// What a failed operation records as `error.type`: a database error's SQLSTATE, the kind of
/// a connection failure; `None` for outcomes that are answers, not failures (a row not found
/// given as a domain error).
pub trait OperationError {
    fn error_type(&self) -> Option<String>;
}

impl OperationError for sqlx::Error {
    fn error_type(&self) -> Option<String> {
        Some(match self {
            sqlx::Error::Database(error) => {
                error.code().map_or_else(|| "database".to_owned(), |code| code.into_owned())
            }
            sqlx::Error::RowNotFound => return None,
            sqlx::Error::PoolTimedOut => "pool_timeout".to_owned(),
            sqlx::Error::PoolClosed => "pool_closed".to_owned(),
            sqlx::Error::Io(_) | sqlx::Error::Tls(_) => "connection".to_owned(),
            _ => "other".to_owned(),
        })
    }
}

/// Runs one database operation inside its client span and measures it.
pub async fn traced<T, E: OperationError>(
    summary: &'static str,
    work: impl Future<Output = Result<T, E>>,
) -> Result<T, E> {
    let target = target();
    let operation = summary.split_whitespace().next().unwrap_or(summary);
    let span = tracing::info_span!(
        "db operation",
        otel.name = summary,
        otel.kind = "client",
        otel.status_code = tracing::field::Empty,
        db.system.name = "postgresql",
        db.operation.name = operation,
        db.query.summary = summary,
        db.namespace = target.namespace.as_str(),
        server.address = target.address.as_str(),
        server.port = target.port,
        db.response.status_code = tracing::field::Empty,
        error.type = tracing::field::Empty,
    );
    let started = Instant::now();
    let result = work.instrument(span.clone()).await;
    let elapsed = started.elapsed();
    let mut attributes = vec![
        KeyValue::new(attr::DB_SYSTEM_NAME, "postgresql"),
        KeyValue::new(attr::DB_OPERATION_NAME, operation),
        KeyValue::new(attr::DB_QUERY_SUMMARY, summary),
        KeyValue::new(attr::DB_NAMESPACE, target.namespace.clone()),
        KeyValue::new(attr::SERVER_ADDRESS, target.address.clone()),
        KeyValue::new(attr::SERVER_PORT, i64::from(target.port)),
    ];
    if let Some(error) = result.as_ref().err().and_then(OperationError::error_type) {
        span.record("otel.status_code", "ERROR");
        span.record("error.type", error.as_str());
        if error.len() == 5 && error.chars().all(|c| c.is_ascii_alphanumeric()) {
            span.record("db.response.status_code", error.as_str());
        }
        attributes.push(KeyValue::new(attr::ERROR_TYPE, error));
    }
    let exemplar = crate::telemetry::exporting().then(|| crate::telemetry::trace_id_of(&span)).flatten();
    crate::metrics::record_db_operation(&attributes, elapsed, exemplar);
    result
}
