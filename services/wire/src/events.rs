//! Order events as they travel on NATS JetStream: written by orders (its outbox and relay),
//! read by notifications. The subject is `orders.<kind>`; the headers carry `Event-Id` (the
//! event's id, also `Nats-Msg-Id`), `Order-Id`, [`OCCURRED_AT`] and `traceparent`; the body is
//! [`OrderEvent`].

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The JetStream stream that holds order events.
pub const STREAM: &str = "ORDERS";
/// Subjects of order events start with this; the kind follows (`orders.OrderPaid`).
pub const SUBJECT_PREFIX: &str = "orders.";
/// The header with the time of the change (RFC 3339, UTC), written by the statement that made
/// it: an event published long after (orders kept it in its outbox while no NATS ran) still
/// says when it happened.
pub const OCCURRED_AT: &str = "Occurred-At";
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
