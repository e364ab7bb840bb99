//! Order events as they travel on NATS JetStream: written by orders (its outbox and relay),
//! read by notifications. The subject is `orders.<kind>`; the headers carry `Event-Id` (the
//! event's id, also `Nats-Msg-Id`), `Order-Id` and `traceparent`; the body is [`OrderEvent`].

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The JetStream stream that holds order events.
pub const STREAM: &str = "ORDERS";
/// Subjects of order events start with this; the kind follows (`orders.OrderPaid`).
pub const SUBJECT_PREFIX: &str = "orders.";
/// How long the stream remembers message ids to drop republished copies.
pub const DUPLICATE_WINDOW_SECS: u64 = 600;

/// The body of every order event: the order as the change left it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderEvent {
    pub order_id: Uuid,
    pub user_id: Uuid,
    /// The order's status after the change.
    pub status: String,
    /// What the customer pays (or paid), minor units.
    pub total: i64,
    pub currency: String,
    /// Why it was cancelled, for `OrderCancelled`.
    #[serde(default)]
    pub cancel_reason: Option<String>,
    /// For `OrderCancelled`: the order had been paid, so the payment was refunded.
    #[serde(default)]
    pub refunded: bool,
}
