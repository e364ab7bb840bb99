//! The products service's errors, and the HTTP status each one becomes.

use shopkit::{ApiError, FieldError, FieldErrors};
use uuid::Uuid;

/// One product that cannot cover a reservation line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shortage {
    pub product_id: Uuid,
    /// Units the line asked for, beyond what the order already held.
    pub requested: i32,
    /// Units left for sale.
    pub available: i32,
}

/// Everything that can go wrong in the products service.
#[derive(Debug, thiserror::Error)]
pub enum ProductsError {
    /// 422: some fields are invalid.
    #[error("invalid input")]
    Invalid(FieldErrors),
    /// 404: no live product with this id.
    #[error("product {0} not found")]
    ProductNotFound(Uuid),
    /// 409: another live product has this SKU.
    #[error("a product with SKU {0} already exists")]
    DuplicateSku(String),
    /// 422: a reservation names products that do not exist or were deleted.
    #[error("unknown products")]
    UnknownProducts(Vec<Uuid>),
    /// 409: not enough stock for some lines; nothing was reserved.
    #[error("insufficient stock")]
    InsufficientStock(Vec<Shortage>),
    /// 409: the reservation was released and cannot take stock again.
    #[error("reservation for order {0} was released")]
    ReservationReleased(Uuid),
    /// 404: no reservation for this order.
    #[error("no reservation for order {0}")]
    ReservationNotFound(Uuid),
    /// 500/503: the database failed.
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// Only a database error leaves a lent connection in doubt (`shopkit::lender`).
impl shopkit::lender::StatementError for ProductsError {
    fn is_database_failure(&self) -> bool {
        matches!(self, Self::Database(_))
    }
}

impl From<FieldErrors> for ProductsError {
    fn from(errors: FieldErrors) -> Self {
        Self::Invalid(errors)
    }
}

impl ProductsError {
    /// The API error, naming reservation lines by their position in the request
    /// (`line_index` maps a product id to it) so the client can point at the right line.
    pub fn into_api_error(self, line_index: impl Fn(Uuid) -> Option<usize>) -> ApiError {
        let line = |id: Uuid| line_index(id).map(|i| format!("lines[{i}]")).unwrap_or_else(|| "lines".to_owned());
        match self {
            Self::Invalid(errors) => errors.into(),
            Self::ProductNotFound(id) => ApiError::not_found(format!("product {id} does not exist")),
            Self::DuplicateSku(sku) => ApiError::conflict(format!("a product with SKU {sku} already exists")),
            Self::UnknownProducts(ids) => ApiError::validation(
                ids.into_iter()
                    .map(|id| {
                        FieldError::new(format!("{}.product_id", line(id)), format!("product {id} does not exist"))
                    })
                    .collect(),
            ),
            Self::InsufficientStock(shortages) => {
                let detail = shortages
                    .iter()
                    .map(|s| {
                        format!(
                            "product {} has {} units available, {} requested",
                            s.product_id, s.available, s.requested
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("; ");
                let mut error = ApiError::conflict(format!("insufficient stock: {detail}"));
                if let ApiError::Conflict(problem) = &mut error {
                    problem.0.errors = Some(
                        shortages
                            .iter()
                            .map(|s| {
                                FieldError::new(
                                    format!("{}.quantity", line(s.product_id)),
                                    format!("product {} has {} units available", s.product_id, s.available),
                                )
                            })
                            .collect(),
                    );
                }
                error
            }
            Self::ReservationReleased(id) => {
                ApiError::conflict(format!("the reservation of order {id} was released; it cannot reserve stock again"))
            }
            Self::ReservationNotFound(id) => ApiError::not_found(format!("no reservation for order {id}")),
            Self::Database(err) => err.into(),
        }
    }
}

impl From<ProductsError> for ApiError {
    fn from(err: ProductsError) -> Self {
        err.into_api_error(|_| None)
    }
}

/// A store function's failure, as its database span and metric record it: only a database
/// error is one; the others are the answers the operation gives (not found, a conflict).
impl shopkit::dbop::OperationError for ProductsError {
    fn database_error(&self) -> Option<&sqlx::Error> {
        match self {
            Self::Database(error) => Some(error),
            _ => None,
        }
    }
}
