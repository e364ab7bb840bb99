//! Orders as the orders service answers them, read by the storefront's pages; and the item
//! the storefront sends when it places one.

use chrono::{DateTime, Utc};
use poem_openapi::{Enum, Object};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// One product and how many units of it.
#[derive(Debug, Clone, Object, Serialize, Deserialize)]
pub struct ItemBody {
    pub product_id: Uuid,
    /// Units, 1-1000.
    pub quantity: i64,
}

/// An order's lifecycle status.
#[derive(Debug, Enum, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[oai(rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Placed, stock held, waiting for payment.
    Pending,
    Paid,
    Shipped,
    Delivered,
    /// Cancelled (stock given back, payment refunded).
    Cancelled,
}

impl Status {
    /// The wire name (`pending`), as CSS classes and forms use it too.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Paid => "paid",
            Self::Shipped => "shipped",
            Self::Delivered => "delivered",
            Self::Cancelled => "cancelled",
        }
    }
}

/// An order line with the product's name and price when it was ordered.
#[derive(Debug, Clone, Object, Serialize, Deserialize)]
pub struct OrderLine {
    pub product_id: Uuid,
    /// Product name when ordered.
    pub name: String,
    /// Unit price when ordered, minor units.
    pub unit_price: i64,
    pub quantity: i32,
    /// `unit_price * quantity`.
    pub line_total: i64,
}

/// An order.
#[derive(Debug, Clone, Object, Serialize, Deserialize)]
pub struct Order {
    pub id: Uuid,
    /// The customer the order is for: not the caller when an admin placed it for someone.
    pub user_id: Uuid,
    pub status: Status,
    pub items: Vec<OrderLine>,
    /// What the customer pays, minor units: the lines plus shipping (prices include VAT).
    pub total: i64,
    /// Sum of the lines, minor units.
    pub subtotal: i64,
    /// Where and how it is delivered; absent for an order placed without an address.
    #[oai(skip_serializing_if_is_none)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery: Option<crate::delivery::OrderDelivery>,
    /// Currency of every amount.
    pub currency: String,
    /// The successful payment, once paid.
    #[oai(nullable)]
    pub payment_id: Option<Uuid>,
    /// Why it was cancelled: `cancelled_by_customer`, `cancelled_by_admin` or `expired`.
    #[oai(nullable)]
    pub cancel_reason: Option<String>,
    /// When a pending order expires and its stock is released.
    #[oai(nullable)]
    pub expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Trace id of the request that placed the order: search for it in Jaeger to see the
    /// whole purchase across services.
    #[oai(nullable)]
    pub trace_id: Option<String>,
}

/// A page of orders.
#[derive(Debug, Clone, Object, Serialize, Deserialize)]
pub struct OrderPage {
    /// Newest first.
    pub items: Vec<Order>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[oai(nullable)]
    pub next_cursor: Option<String>,
    /// How many orders match the filters: answered for numbered pages (`page`) only.
    #[oai(skip_serializing_if_is_none)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_status_reads_and_writes_the_names_of_the_spec() {
        for status in [Status::Pending, Status::Paid, Status::Shipped, Status::Delivered, Status::Cancelled] {
            let name = serde_json::Value::from(status.as_str());
            assert_eq!(serde_json::to_value(status).ok(), Some(name.clone()), "serde writes it");
            assert_eq!(serde_json::from_value::<Status>(name.clone()).ok(), Some(status), "serde reads it");
            assert_eq!(poem_openapi::types::ToJSON::to_json(&status), Some(name), "the spec's name");
        }
    }
}
