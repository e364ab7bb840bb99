//! Stock reservations at products, and products' refusals as a type.

use poem::http::StatusCode;
use serde::{Deserialize, Serialize};
use shopkit::{FieldError, Problem, client::ClientError};
use uuid::Uuid;

use super::Dependencies;

/// A reserved line as products returns it.
#[derive(Debug, Clone, Deserialize)]
pub struct ReservedLine {
    pub product_id: Uuid,
    /// The product's name now, kept as the line's snapshot.
    pub name: String,
    /// The unit price now (minor units), kept as the line's snapshot.
    pub unit_price: i64,
    /// One order must be in a single currency; the saga checks that every line agrees.
    pub currency: String,
}

#[derive(Debug, Deserialize)]
struct Reservation {
    lines: Vec<ReservedLine>,
}

#[derive(Serialize)]
struct ReservationLine {
    product_id: Uuid,
    quantity: i32,
}

#[derive(Serialize)]
struct ReservationBody {
    lines: Vec<ReservationLine>,
}

/// Why a reservation did not happen.
#[derive(Debug, thiserror::Error)]
pub enum ReserveError {
    /// Products refused, all or nothing: nothing is held, so there is nothing to undo.
    #[error("stock reservation refused")]
    Refused(StockRefusal),
    /// Products could not be asked or gave no usable answer: the stock may be held.
    #[error(transparent)]
    Failed(#[from] ClientError),
}

/// What products refused, by the lines it blamed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StockRefusal {
    /// The stock cannot be held now: some lines ask for more than is left (or the order's
    /// reservation was released already). `detail` is products' account of it.
    Unavailable {
        /// Products' explanation, naming the products and units left.
        detail: String,
        /// The lines short of stock.
        lines: Vec<RefusedLine>,
    },
    /// Lines products does not accept: unknown or deleted products.
    InvalidLines(Vec<RefusedLine>),
}

/// A line products refused, by its position: the saga sends the lines in the order of the
/// client's items, so the position is also the item's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefusedLine {
    /// Position of the line in the request; `None` when products blamed all the lines.
    pub position: Option<usize>,
    /// The line's field at fault (`quantity`, `product_id`), when products named one.
    pub field: Option<String>,
    /// Why it was refused.
    pub message: String,
}

impl RefusedLine {
    /// Reads products' field name (`lines[2].quantity`, `lines`).
    fn from_products(error: FieldError) -> Self {
        let rest = error.field.strip_prefix("lines").unwrap_or_default();
        let (position, rest) = match rest.strip_prefix('[').and_then(|r| r.split_once(']')) {
            Some((index, rest)) => (index.parse().ok(), rest),
            None => (None, rest),
        };
        let field = rest.strip_prefix('.').filter(|f| !f.is_empty()).map(str::to_owned);
        Self { position, field, message: error.message }
    }
}

impl StockRefusal {
    /// Products' refusal statuses: 409 (no stock) and 422 (invalid lines). Anything else
    /// (403, 404) means the services disagree about the contract, not a refusal.
    fn is_refusal(status: StatusCode) -> bool {
        status == StatusCode::CONFLICT || status == StatusCode::UNPROCESSABLE_ENTITY
    }

    /// Products' refusal (see [`is_refusal`](Self::is_refusal)) as a type.
    fn from_products(status: StatusCode, problem: Problem) -> Self {
        let lines = problem.errors.unwrap_or_default().into_iter().map(RefusedLine::from_products).collect();
        if status == StatusCode::CONFLICT {
            Self::Unavailable { detail: problem.detail, lines }
        } else {
            Self::InvalidLines(lines)
        }
    }
}

impl Dependencies {
    /// Makes the order's reservation hold exactly `items` (all or nothing).
    #[tracing::instrument(name = "saga.reserve_stock", skip(self, items), fields(order_id = %order_id), err(level = "info", Display))]
    pub async fn reserve(&self, order_id: Uuid, items: &[(Uuid, i32)]) -> Result<Vec<ReservedLine>, ReserveError> {
        let body = ReservationBody {
            lines: items
                .iter()
                .map(|(product_id, quantity)| ReservationLine { product_id: *product_id, quantity: *quantity })
                .collect(),
        };
        match self.products.put::<_, Reservation>(&format!("/reservations/{order_id}"), &body).await {
            Ok(reservation) => Ok(reservation.lines),
            Err(ClientError::Rejected { status, problem: Some(problem), .. }) if StockRefusal::is_refusal(status) => {
                Err(ReserveError::Refused(StockRefusal::from_products(status, *problem)))
            }
            Err(other) => Err(other.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn products_line_fields_become_positions() {
        let cases = [
            ("lines[2].quantity", Some(2), Some("quantity"), "a line's field"),
            ("lines[0].product_id", Some(0), Some("product_id"), "the first line"),
            ("lines[1]", Some(1), None, "a whole line"),
            ("lines", None, None, "all the lines"),
            ("user_id", None, None, "a field that is not a line blames the lines as a whole"),
        ];
        for (field, position, name, why) in cases {
            let line = RefusedLine::from_products(FieldError::new(field, "refused"));
            assert_eq!((line.position, line.field.as_deref()), (position, name), "{why}");
        }
    }

    #[test]
    fn conflicts_are_unavailable_stock_and_422s_invalid_lines() {
        let problem = || {
            let mut problem = Problem::new(409, "insufficient stock: product x has 0 units available, 1 requested");
            problem.errors = Some(vec![FieldError::new("lines[1].quantity", "product x has 0 units available")]);
            problem
        };
        let line = RefusedLine {
            position: Some(1),
            field: Some("quantity".into()),
            message: "product x has 0 units available".into(),
        };
        assert_eq!(
            StockRefusal::from_products(StatusCode::CONFLICT, problem()),
            StockRefusal::Unavailable { detail: problem().detail, lines: vec![line.clone()] }
        );
        assert_eq!(
            StockRefusal::from_products(StatusCode::UNPROCESSABLE_ENTITY, problem()),
            StockRefusal::InvalidLines(vec![line])
        );
        assert!(!StockRefusal::is_refusal(StatusCode::FORBIDDEN), "a 403 is a misconfiguration, not a refusal");
        assert!(!StockRefusal::is_refusal(StatusCode::NOT_FOUND));
    }
}
