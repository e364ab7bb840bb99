//! The orders service's errors, and the HTTP status each one becomes.

use shopkit::{ApiError, FieldError, FieldErrors, client::ClientError};

use crate::{
    clients::{RefusedLine, StockRefusal},
    domain::{access::Denied, status::IllegalTransition},
};

/// Everything that can go wrong in the orders service.
#[derive(Debug, thiserror::Error)]
pub enum OrdersError {
    /// 422: invalid input.
    #[error("invalid input")]
    Invalid(FieldErrors),
    /// 404: no such order, or not the caller's.
    #[error("order not found")]
    NotFound,
    /// 401: the token is valid but its account was deleted since it was issued.
    #[error("the account of this token no longer exists")]
    AccountGone,
    /// 403: the caller may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// 409: the lifecycle does not allow it.
    #[error(transparent)]
    Transition(#[from] IllegalTransition),
    /// 409: conflicts with the current state (payment in flight, request in progress, ...).
    #[error("{0}")]
    Conflict(String),
    /// 409 when products cannot hold the stock, 422 for unknown products.
    #[error("stock reservation refused")]
    StockRefused(StockRefusal),
    /// 402: the card was declined.
    #[error("payment declined: {0}")]
    Declined(String),
    /// 503: a dependency is down or slow.
    #[error(transparent)]
    Dependency(Box<ClientError>),
    /// 500/503: the database failed.
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

impl OrdersError {
    /// A dependency failure (boxed: the client error is large and rare).
    pub fn dependency(err: ClientError) -> Self {
        Self::Dependency(Box::new(err))
    }
}

impl From<Denied> for OrdersError {
    fn from(denied: Denied) -> Self {
        match denied {
            Denied::Hidden => Self::NotFound,
            Denied::Forbidden(detail) => Self::Forbidden(detail.into()),
        }
    }
}

/// Only a database error leaves a lent connection in doubt (`shopkit::lender`).
impl shopkit::lender::StatementError for OrdersError {
    fn is_database_failure(&self) -> bool {
        matches!(self, Self::Database(_))
    }
}

impl From<FieldErrors> for OrdersError {
    fn from(errors: FieldErrors) -> Self {
        Self::Invalid(errors)
    }
}

impl From<OrdersError> for ApiError {
    fn from(err: OrdersError) -> Self {
        match err {
            OrdersError::Invalid(errors) => errors.into(),
            OrdersError::NotFound => ApiError::not_found("no such order"),
            OrdersError::AccountGone => {
                ApiError::unauthorized("the account of this token no longer exists; log in with an existing account")
            }
            OrdersError::Forbidden(detail) => ApiError::forbidden(detail),
            OrdersError::Transition(e) => ApiError::conflict(e.to_string()),
            OrdersError::Conflict(detail) => ApiError::conflict(detail),
            OrdersError::StockRefused(StockRefusal::Unavailable { detail, lines }) => {
                let mut error = ApiError::conflict(detail);
                if let ApiError::Conflict(problem) = &mut error {
                    problem.0.errors = (!lines.is_empty()).then(|| item_errors(lines));
                }
                error
            }
            OrdersError::StockRefused(StockRefusal::InvalidLines(lines)) => ApiError::validation(item_errors(lines)),
            OrdersError::Declined(code) => ApiError::payment_required(format!("the card was declined: {code}")),
            OrdersError::Dependency(e) => {
                tracing::warn!(error = %e, "dependency failure");
                ApiError::unavailable(format!("{e}; nothing was changed, retry later"))
            }
            OrdersError::Database(err) => err.into(),
        }
    }
}

/// Refused reservation lines as this API's item fields (`items[2].quantity`): the saga sent
/// the items in the client's order, so a line's position is the item's.
fn item_errors(lines: Vec<RefusedLine>) -> Vec<FieldError> {
    lines
        .into_iter()
        .map(|line| {
            let item = line.position.map(|p| format!("items[{p}]")).unwrap_or_else(|| "items".to_owned());
            let field = line.field.map(|f| format!("{item}.{f}")).unwrap_or(item);
            FieldError::new(field, line.message)
        })
        .collect()
}
