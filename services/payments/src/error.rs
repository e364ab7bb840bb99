//! The payments service's errors, and the HTTP status each one becomes.

use shopkit::{ApiError, FieldErrors};

/// Everything that can go wrong in the payments service.
#[derive(Debug, thiserror::Error)]
pub enum PaymentsError {
    /// 422: invalid card or amount.
    #[error("invalid input")]
    Invalid(FieldErrors),
    /// 422: this idempotency key was used for a different request.
    #[error("idempotency key reused with a different request")]
    KeyReused,
    /// 404: no such payment.
    #[error("payment not found")]
    NotFound,
    /// 409: the payment cannot be refunded (it was declined).
    #[error("{0}")]
    IllegalTransition(#[from] crate::domain::charge::IllegalTransition),
    /// 503: the simulated processor failed; retry with the same idempotency key.
    #[error("card processor unavailable")]
    ProcessorUnavailable,
    /// 500/503: the database failed.
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

impl From<FieldErrors> for PaymentsError {
    fn from(errors: FieldErrors) -> Self {
        Self::Invalid(errors)
    }
}

impl From<PaymentsError> for ApiError {
    fn from(err: PaymentsError) -> Self {
        match err {
            PaymentsError::Invalid(errors) => errors.into(),
            PaymentsError::KeyReused => ApiError::invalid_field(
                "Idempotency-Key",
                "was already used for a different request; use a new key for a new payment",
            ),
            PaymentsError::NotFound => ApiError::not_found("no such payment"),
            PaymentsError::IllegalTransition(e) => {
                ApiError::conflict(format!("{e}: only a succeeded payment can be refunded"))
            }
            PaymentsError::ProcessorUnavailable => {
                ApiError::unavailable("the card processor did not answer; retry with the same Idempotency-Key")
            }
            PaymentsError::Database(err) => err.into(),
        }
    }
}

/// A store function's failure, as its database span and metric record it: only a database
/// error is one; the others are the answers the operation gives (not found, a conflict).
impl shopkit::dbop::OperationError for PaymentsError {
    fn database_error(&self) -> Option<&sqlx::Error> {
        match self {
            Self::Database(error) => Some(error),
            _ => None,
        }
    }
}
