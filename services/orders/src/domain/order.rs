//! An order as the flows and the API see it, apart from how it is stored: a public status
//! (never a saga stage), its lines, and the amounts every placed order has.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{delivery::Delivery, status::OrderStatus};

/// A placed order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    pub id: Uuid,
    /// The customer it is for.
    pub user_id: Uuid,
    pub status: OrderStatus,
    /// In the order the customer listed the items.
    pub lines: Vec<OrderLine>,
    /// What the customer pays, minor units of `currency`: the lines plus shipping.
    pub total_minor: i64,
    /// Every line's price is in this currency.
    pub currency: String,
    /// The successful payment, once paid.
    pub payment_id: Option<Uuid>,
    /// Why it was cancelled: `cancelled_by_customer`, `cancelled_by_admin` or `expired`.
    pub cancel_reason: Option<String>,
    /// When it expires and its stock is released; only a pending order has one.
    pub expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Trace id of the request that placed it, to find the whole purchase in the traces.
    pub trace_id: Option<String>,
    /// Where and how it is delivered, when the customer gave an address.
    pub delivery: Option<Delivery>,
}

impl Order {
    /// The lines' sum (the total without shipping).
    pub fn items_minor(&self) -> i64 {
        self.lines.iter().map(OrderLine::total_minor).fold(0i64, i64::saturating_add)
    }
}

/// A line with the product's name and price when it was ordered (a snapshot: later catalogue
/// changes do not alter placed orders).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderLine {
    pub product_id: Uuid,
    pub name: String,
    /// Unit price when ordered, minor units.
    pub unit_price_minor: i64,
    pub quantity: i32,
}

impl OrderLine {
    /// `unit_price_minor * quantity`; the order total was checked for overflow when placed.
    pub fn total_minor(&self) -> i64 {
        self.unit_price_minor.saturating_mul(i64::from(self.quantity))
    }
}
