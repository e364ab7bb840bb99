//! Request and response bodies of the orders API. Those another service sends or reads are
//! `shopwire`'s; the conversions from this service's domain are here.

use poem_openapi::{Enum, Object};
pub use shopwire::{
    AddressBody, CardBody, CountryOption, DeliveryBody, DeliveryOptions, ItemBody, MethodOption, Order, OrderDelivery,
    OrderLine, OrderPage, Status,
};
use uuid::Uuid;

use crate::domain::{
    delivery::{DeliveryRequest, RawDelivery, vat_included},
    order,
    status::OrderStatus,
};

/// A new order.
#[derive(Debug, Object)]
pub struct NewOrderBody {
    /// The products to buy, each at most once.
    pub items: Vec<ItemBody>,
    /// Admins only: the customer the order is for (default: the caller).
    pub user_id: Option<Uuid>,
    /// Where and how to deliver it: shipping is priced for the destination and added to the
    /// total. Without it, the order has no shipping (and no address).
    pub delivery: Option<DeliveryBody>,
}

/// The checked delivery of a request body.
pub fn delivery_request(body: &DeliveryBody) -> Result<DeliveryRequest, shopkit::FieldErrors> {
    let a = &body.address;
    let address = shopkit::address::RawAddress {
        recipient: &a.recipient,
        line1: &a.line1,
        line2: &a.line2,
        postal_code: &a.postal_code,
        city: &a.city,
        country: &a.country,
    };
    DeliveryRequest::parse(&RawDelivery { address, method: &body.method })
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

/// A payment request.
#[derive(Object)]
pub struct PayBody {
    pub card: CardBody,
}

/// The wire name of a domain status.
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

/// The wire body of a stored order.
impl From<order::Order> for Order {
    fn from(order: order::Order) -> Self {
        let subtotal = order.items_minor();
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
        let delivery = order.delivery.map(|d| OrderDelivery {
            address: AddressBody {
                recipient: d.address.recipient,
                line1: d.address.line1,
                line2: d.address.line2,
                postal_code: d.address.postal_code,
                city: d.address.city,
                country: d.address.country,
            },
            method: d.method.as_str().to_owned(),
            shipping: d.quote.shipping_minor,
            days_min: d.quote.days_min,
            days_max: d.quote.days_max,
            vat_rate_basis_points: d.quote.vat_basis_points,
            vat_included: vat_included(order.total_minor, d.quote.vat_basis_points),
        });
        Self {
            id: order.id,
            user_id: order.user_id,
            status: order.status.into(),
            items,
            total: order.total_minor,
            subtotal,
            delivery,
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
