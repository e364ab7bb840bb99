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

/// The database failure inside an operation's error, if it is one. A domain error that is an
/// answer (not found, a conflict) is no failure: only its `Database` variant is.
pub trait OperationError {
    fn database_error(&self) -> Option<&sqlx::Error>;
}

impl OperationError for sqlx::Error {
    fn database_error(&self) -> Option<&sqlx::Error> {
        Some(self)
    }
}

/// `error.type` of a database failure, and the SQLSTATE (`db.response.status_code`) when the
/// server answered with one; `None` for a row not found, which is an answer.
fn failure(error: &sqlx::Error) -> Option<(String, Option<String>)> {
    let kind = match error {
        sqlx::Error::Database(error) => {
            let code = error.code().map(|c| c.into_owned());
            return Some((code.clone().unwrap_or_else(|| "database".to_owned()), code));
        }
        sqlx::Error::RowNotFound => return None,
        sqlx::Error::PoolTimedOut => "pool_timeout",
        sqlx::Error::PoolClosed => "pool_closed",
        sqlx::Error::Io(_) | sqlx::Error::Tls(_) => "connection",
        _ => "other",
    };
    Some((kind.to_owned(), None))
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
    if let Some((error_type, sqlstate)) =
        result.as_ref().err().and_then(OperationError::database_error).and_then(failure)
    {
        span.record("otel.status_code", "ERROR");
        span.record("error.type", error_type.as_str());
        if let Some(sqlstate) = &sqlstate {
            span.record("db.response.status_code", sqlstate.as_str());
        }
        attributes.push(KeyValue::new(attr::ERROR_TYPE, error_type));
    }
    let exemplar = crate::telemetry::exporting().then(|| crate::telemetry::trace_id_of(&span)).flatten();
    crate::metrics::record_db_operation(&attributes, elapsed, exemplar);
    result
}

#[cfg(test)]
mod tests {
    use super::failure;

    #[test]
    fn failures_name_their_kind_and_only_server_answers_carry_a_sqlstate() {
        assert_eq!(failure(&sqlx::Error::RowNotFound), None, "an answer, not a failure");
        assert_eq!(failure(&sqlx::Error::PoolTimedOut), Some(("pool_timeout".to_owned(), None)));
        assert_eq!(failure(&sqlx::Error::Protocol("x".into())), Some(("other".to_owned(), None)));
    }
}
