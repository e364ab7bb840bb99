//! The order lifecycle as a state machine.
//!
//! ```text
//! pending --pay--> paid --ship--> shipped --deliver--> delivered
//!    |  \--edit--> pending       |
//!    +--cancel/expire--> cancelled <--cancel (refund)--+
//! ```

/// Where an order stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrderStatus {
    /// Placed, stock held, waiting for payment (expires).
    Pending,
    /// Charged; the stock stays taken until it ships or is cancelled (refunded).
    Paid,
    /// Handed to the carrier.
    Shipped,
    /// Received by the customer.
    Delivered,
    /// Cancelled by the customer, an admin, or expiry; stock given back, payment refunded.
    Cancelled,
}

/// What can happen to an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderEvent {
    /// Change the lines or quantities.
    Edit,
    /// A successful charge.
    Pay,
    /// An admin ships it.
    Ship,
    /// An admin marks it delivered.
    Deliver,
    /// The customer or an admin cancels it.
    Cancel,
    /// Unpaid for too long.
    Expire,
}

/// A transition the lifecycle does not allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("an order that is {} cannot be {}", .from.as_str(), .event.past_tense())]
pub struct IllegalTransition {
    /// Current status.
    pub from: OrderStatus,
    /// Refused event.
    pub event: OrderEvent,
}

impl OrderEvent {
    fn past_tense(self) -> &'static str {
        match self {
            Self::Edit => "edited",
            Self::Pay => "paid",
            Self::Ship => "shipped",
            Self::Deliver => "delivered",
            Self::Cancel => "cancelled",
            Self::Expire => "expired",
        }
    }
}

impl OrderStatus {
    /// The status after `event`, or why it cannot happen.
    pub fn transition(self, event: OrderEvent) -> Result<Self, IllegalTransition> {
        use OrderEvent as E;
        use OrderStatus as S;
        match (self, event) {
            (S::Pending, E::Edit) => Ok(S::Pending),
            (S::Pending, E::Pay) => Ok(S::Paid),
            (S::Pending | S::Paid, E::Cancel) | (S::Pending, E::Expire) => Ok(S::Cancelled),
            (S::Paid, E::Ship) => Ok(S::Shipped),
            (S::Shipped, E::Deliver) => Ok(S::Delivered),
            (from, event) => Err(IllegalTransition { from, event }),
        }
    }

    /// Whether the order may be deleted: only while nothing was charged or after cancellation.
    pub fn deletable(self) -> bool {
        matches!(self, Self::Pending | Self::Cancelled)
    }

    /// Stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Paid => "paid",
            Self::Shipped => "shipped",
            Self::Delivered => "delivered",
            Self::Cancelled => "cancelled",
        }
    }

    /// Parses a stored or wire name (saga stages are not statuses).
    pub fn parse(value: &str) -> Option<Self> {
        [Self::Pending, Self::Paid, Self::Shipped, Self::Delivered, Self::Cancelled]
            .into_iter()
            .find(|s| s.as_str() == value)
    }
}

#[cfg(test)]
mod tests {
    use super::{OrderEvent as E, OrderStatus as S};

    /// Every (status, event) pair and its outcome.
    #[test]
    fn transition_table_covers_every_pair() {
        let table = [
            (S::Pending, E::Edit, Some(S::Pending)),
            (S::Pending, E::Pay, Some(S::Paid)),
            (S::Pending, E::Ship, None),
            (S::Pending, E::Deliver, None),
            (S::Pending, E::Cancel, Some(S::Cancelled)),
            (S::Pending, E::Expire, Some(S::Cancelled)),
            (S::Paid, E::Edit, None),
            (S::Paid, E::Pay, None),
            (S::Paid, E::Ship, Some(S::Shipped)),
            (S::Paid, E::Deliver, None),
            (S::Paid, E::Cancel, Some(S::Cancelled)),
            (S::Paid, E::Expire, None),
            (S::Shipped, E::Edit, None),
            (S::Shipped, E::Pay, None),
            (S::Shipped, E::Ship, None),
            (S::Shipped, E::Deliver, Some(S::Delivered)),
            (S::Shipped, E::Cancel, None),
            (S::Shipped, E::Expire, None),
            (S::Delivered, E::Edit, None),
            (S::Delivered, E::Pay, None),
            (S::Delivered, E::Ship, None),
            (S::Delivered, E::Deliver, None),
            (S::Delivered, E::Cancel, None),
            (S::Delivered, E::Expire, None),
            (S::Cancelled, E::Edit, None),
            (S::Cancelled, E::Pay, None),
            (S::Cancelled, E::Ship, None),
            (S::Cancelled, E::Deliver, None),
            (S::Cancelled, E::Cancel, None),
            (S::Cancelled, E::Expire, None),
        ];
        assert_eq!(table.len(), 5 * 6, "every pair is listed");
        for (from, event, expected) in table {
            assert_eq!(from.transition(event).ok(), expected, "{from:?} + {event:?}");
        }
    }

    #[test]
    fn only_pending_and_cancelled_orders_are_deletable() {
        let deletable: Vec<_> = [S::Pending, S::Paid, S::Shipped, S::Delivered, S::Cancelled]
            .into_iter()
            .filter(|s| s.deletable())
            .collect();
        assert_eq!(deletable, [S::Pending, S::Cancelled]);
    }

    #[test]
    fn names_round_trip_and_saga_stages_are_not_statuses() {
        for s in [S::Pending, S::Paid, S::Shipped, S::Delivered, S::Cancelled] {
            assert_eq!(S::parse(s.as_str()), Some(s));
        }
        assert_eq!(S::parse("reserving"), None);
        assert_eq!(
            S::Delivered.transition(E::Cancel).expect_err("illegal").to_string(),
            "an order that is delivered cannot be cancelled"
        );
    }
}
