//! Typed calls to users, products and payments, over the kit's [`ServiceClient`]. What the
//! other services answer is turned into this service's terms here (stock refusals in `reservation.rs`), so
//! the saga never looks at their HTTP statuses or problem bodies.

mod reservation;

pub use reservation::{RefusedLine, ReserveError, ReservedLine, StockRefusal};

use std::sync::Arc;

use serde::{Deserialize, de::IgnoredAny};
use shopkit::{
    FieldErrors, Problem,
    client::{ClientError, ServiceClient, TokenSource},
};
use shopwire::{CardBody, ChargeBody};
use uuid::Uuid;

/// A payment as payments returns it.
#[derive(Debug, Clone, Deserialize)]
pub struct Payment {
    pub id: Uuid,
    /// `succeeded`, `declined` or `refunded`.
    pub status: String,
    /// Decline reason.
    pub decline_code: Option<String>,
}

/// Why a charge did not happen (a declined card is a [`Payment`], not an error).
#[derive(Debug, thiserror::Error)]
pub enum ChargeError {
    /// Payments refused the card or the idempotency key before charging: these fields.
    #[error("payment refused")]
    Refused(FieldErrors),
    /// Payments could not be asked or gave no usable answer: a charge may have happened.
    #[error(transparent)]
    Failed(#[from] ClientError),
}

/// The fields payments refused (422); its problem body names them as this API does.
fn refused_fields(problem: Option<Problem>) -> FieldErrors {
    let mut errors = FieldErrors::default();
    for e in problem.and_then(|p| p.errors).unwrap_or_default() {
        errors.add(e.field, e.message);
    }
    if errors.is_empty() {
        errors.add("card", "was refused by the payment service");
    }
    errors
}

/// The three services orders depends on.
#[derive(Clone, Debug)]
pub struct Dependencies {
    users: ServiceClient,
    products: ServiceClient,
    payments: ServiceClient,
}

/// Base URLs and credentials of the dependencies.
#[derive(Debug, Clone)]
pub struct DependencyUrls {
    /// `USERS_URL`.
    pub users: String,
    /// `PRODUCTS_URL`.
    pub products: String,
    /// `PAYMENTS_URL`.
    pub payments: String,
}

impl Dependencies {
    /// Clients sharing one cached service token.
    pub fn new(urls: &DependencyUrls, tokens: Arc<TokenSource>) -> Self {
        Self {
            users: ServiceClient::new("users", &urls.users, tokens.clone()),
            products: ServiceClient::new("products", &urls.products, tokens.clone()),
            payments: ServiceClient::new("payments", &urls.payments, tokens),
        }
    }

    /// Whether the user exists (a deleted account does not).
    #[tracing::instrument(name = "saga.check_user", skip(self), fields(order_id = %order_id), err(level = "info", Display))]
    pub async fn user_exists(&self, order_id: Uuid, user_id: Uuid) -> Result<bool, ClientError> {
        // Only the status matters: a 200 means the account exists, whatever the body says.
        match self.users.get::<IgnoredAny>(&format!("/users/{user_id}")).await {
            Ok(_) => Ok(true),
            Err(ClientError::Rejected { status, .. }) if status.as_u16() == 404 => Ok(false),
            Err(other) => Err(other),
        }
    }

    /// Gives the order's stock back (idempotent; blocks any later reservation for it).
    #[tracing::instrument(name = "saga.release_stock", skip(self), fields(order_id = %order_id), err(Display))]
    pub async fn release(&self, order_id: Uuid) -> Result<(), ClientError> {
        self.products.delete(&format!("/reservations/{order_id}")).await
    }

    /// Charges the card; the idempotency key makes a retry return the first result.
    #[tracing::instrument(name = "saga.charge", skip(self, card, key), fields(order_id = %order_id), err(level = "info", Display))]
    pub async fn charge(
        &self,
        order_id: Uuid,
        amount: i64,
        currency: &str,
        card: &CardBody,
        key: &str,
    ) -> Result<Payment, ChargeError> {
        let body = ChargeBody { order_id, amount, currency: currency.to_owned(), card: card.clone() };
        match self.payments.post("/payments", &body, Some(key)).await {
            Ok(payment) => Ok(payment),
            Err(ClientError::Rejected { status, problem, .. }) if status.as_u16() == 422 => {
                Err(ChargeError::Refused(refused_fields(problem.map(|p| *p))))
            }
            Err(other) => Err(other.into()),
        }
    }

    /// Refunds a payment in full (idempotent).
    #[tracing::instrument(name = "saga.refund", skip(self), fields(order_id = %order_id), err(Display))]
    pub async fn refund(&self, order_id: Uuid, payment_id: Uuid) -> Result<Payment, ClientError> {
        let key = format!("refund-{payment_id}");
        self.payments.post(&format!("/payments/{payment_id}/refund"), &serde_json::json!({}), Some(&key)).await
    }

    /// Every payment made for an order (to reconcile after a crash).
    #[tracing::instrument(name = "saga.payments_of_order", skip(self), err(Display))]
    pub async fn payments_of(&self, order_id: Uuid) -> Result<Vec<Payment>, ClientError> {
        self.payments.get(&format!("/payments?order_id={order_id}")).await
    }
}
