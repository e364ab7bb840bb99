//! Request and response bodies of the orders API.

use chrono::{DateTime, Utc};
use poem_openapi::{Enum, Object};
use uuid::Uuid;

use crate::domain::{order, status::OrderStatus};

/// One product and how many units of it.
#[derive(Debug, Object)]
pub struct ItemBody {
    pub product_id: Uuid,
    /// Units, 1-1000.
    pub quantity: i64,
}

/// A new order.
#[derive(Debug, Object)]
pub struct NewOrderBody {
    /// The products to buy, each at most once.
    pub items: Vec<ItemBody>,
    /// Admins only: the customer the order is for (default: the caller).
    pub user_id: Option<Uuid>,
}

/// Status an admin may move an order to.
#[derive(Debug, Enum, Clone, Copy)]
#[oai(rename_all = "lowercase")]
pub enum TargetStatus {
    /// From paid.
    Shipped,
    /// From shipped.
    Delivered,
}

/// A change to an order: new items (while pending) or a new status (admin).
#[derive(Debug, Object)]
pub struct OrderPatchBody {
    /// The complete new list of items.
    pub items: Option<Vec<ItemBody>>,
    /// `shipped` or `delivered`.
    pub status: Option<TargetStatus>,
}

/// Card details for a payment; passed to payments, never stored by orders.
#[derive(Object)]
pub struct CardBody {
    /// Card number. Test cards: 4242424242424242 succeeds; 4000000000000002, 4000000000009995
    /// and 4000000000000069 are declined.
    #[oai(write_only)]
    pub number: String,
    pub exp_month: u32,
    /// Four digits, e.g. `2030`.
    pub exp_year: i32,
    #[oai(write_only)]
    pub cvc: String,
}

/// A payment request.
#[derive(Object)]
pub struct PayBody {
    pub card: CardBody,
}

/// An order's lifecycle status.
#[derive(Debug, Enum, Clone, Copy, PartialEq, Eq)]
#[oai(rename_all = "lowercase")]
pub enum Status {
    /// Placed, stock held, waiting for payment.
    Pending,
    Paid,
    Shipped,
    Delivered,
    /// Cancelled (stock given back, payment refunded).
    Cancelled,
}

impl From<OrderStatus> for Status {
    fn from(s: OrderStatus) -> Self {
        match s {
            OrderStatus::Pending => Self::Pending,
            OrderStatus::Paid => Self::Paid,
            OrderStatus::Shipped => Self::Shipped,
            OrderStatus::Delivered => Self::Delivered,
            OrderStatus::Cancelled => Self::Cancelled,
        }
    }
}

impl From<Status> for OrderStatus {
    fn from(s: Status) -> Self {
        match s {
            Status::Pending => Self::Pending,
            Status::Paid => Self::Paid,
            Status::Shipped => Self::Shipped,
            Status::Delivered => Self::Delivered,
            Status::Cancelled => Self::Cancelled,
        }
    }
}

/// An order line with the product's name and price when it was ordered.
#[derive(Debug, Object)]
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
#[derive(Debug, Object)]
pub struct Order {
    pub id: Uuid,
    /// The customer the order is for: not the caller when an admin placed it for someone.
    pub user_id: Uuid,
    pub status: Status,
    pub items: Vec<OrderLine>,
    /// Sum of the lines, minor units.
    pub total: i64,
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

impl From<order::Order> for Order {
    fn from(order: order::Order) -> Self {
        let items = order
            .lines
            .into_iter()
            .map(|line| OrderLine {
                line_total: line.total_minor(),
                product_id: line.product_id,
                name: line.name,
                unit_price: line.unit_price_minor,
                quantity: line.quantity,
            })
            .collect();
        Self {
            id: order.id,
            user_id: order.user_id,
            status: order.status.into(),
            items,
            total: order.total_minor,
            currency: order.currency,
            payment_id: order.payment_id,
            cancel_reason: order.cancel_reason,
            expires_at: order.expires_at,
            created_at: order.created_at,
            updated_at: order.updated_at,
            trace_id: order.trace_id,
        }
    }
}

/// A page of orders.
#[derive(Debug, Object)]
pub struct OrderPage {
    /// Newest first.
    pub items: Vec<Order>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[oai(nullable)]
    pub next_cursor: Option<String>,
}
