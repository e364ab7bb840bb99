//! The shopper's orders: list, detail, cancel (a paid order is refunded).

use askama::Template;
use poem::{
    Response, handler,
    web::{Data, Path},
};
use shopkit::client::ClientError;
use shopwire::OrderDelivery;
use uuid::Uuid;

use super::{
    AppState,
    page::{Layout, PageError, redirect, rejection_detail, render, require_user},
    session::Session,
};
use crate::{
    clients::{Order, OrderPage, Status},
    domain::money::format_money,
    store::sessions,
};

/// An order as pages show it.
pub struct OrderView {
    pub id: Uuid,
    /// Short id for humans.
    pub short_id: String,
    /// Status slug (CSS class too).
    pub status: String,
    /// Status in words.
    pub status_label: String,
    /// Lines: name, quantity, unit price, line total.
    pub lines: Vec<(String, i32, String, String)>,
    pub total: String,
    /// Placed at, `YYYY-MM-DD HH:MM UTC`.
    pub placed: String,
    /// Pending: may be paid.
    pub payable: bool,
    /// Pending or paid: may be cancelled.
    pub cancellable: bool,
    /// Cancelled after payment: the money went back.
    pub refunded: bool,
    /// Why it was cancelled, in words.
    pub cancel_note: Option<String>,
    /// Trace of the purchase, to look up in Jaeger.
    pub trace_id: Option<String>,
    /// The lines' sum, when shipping makes it differ from the total.
    pub subtotal: String,
    /// Where and how it goes, when the order has an address.
    pub delivery: Option<DeliveryView>,
}

/// An order's delivery as pages show it.
pub struct DeliveryView {
    /// The address, one line each (recipient first, country code last).
    pub address: Vec<String>,
    /// `Standard, 2-4 working days once shipped`.
    pub method: String,
    /// Shipping charged, or `Free`.
    pub shipping: String,
    /// The VAT the total holds, with its rate.
    pub vat: String,
}

impl DeliveryView {
    fn of(d: &OrderDelivery, currency: &str) -> Self {
        let a = &d.address;
        let mut address = vec![a.recipient.clone(), a.line1.clone()];
        if !a.line2.is_empty() {
            address.push(a.line2.clone());
        }
        address.push(format!("{} {}", a.postal_code, a.city));
        address.push(a.country.clone());
        let name = if d.method == "express" { "Express" } else { "Standard" };
        let percent = f64::from(d.vat_rate_basis_points) / 100.0;
        Self {
            address,
            method: format!("{name}, {}-{} working days once shipped", d.days_min, d.days_max),
            shipping: if d.shipping == 0 { "Free".to_owned() } else { format_money(d.shipping, currency) },
            vat: format!("{} ({percent}% VAT)", format_money(d.vat_included, currency)),
        }
    }
}

impl From<&Order> for OrderView {
    fn from(o: &Order) -> Self {
        let status_label = match o.status {
            Status::Pending => "Awaiting payment",
            Status::Paid => "Paid",
            Status::Shipped => "Shipped",
            Status::Delivered => "Delivered",
            Status::Cancelled => "Cancelled",
        };
        Self {
            id: o.id,
            short_id: short_id(o.id),
            status: o.status.as_str().to_owned(),
            status_label: status_label.to_owned(),
            lines: o
                .items
                .iter()
                .map(|l| {
                    (
                        l.name.clone(),
                        l.quantity,
                        format_money(l.unit_price, &o.currency),
                        format_money(l.line_total, &o.currency),
                    )
                })
                .collect(),
            total: format_money(o.total, &o.currency),
            placed: o.created_at.format("%Y-%m-%d %H:%M UTC").to_string(),
            payable: o.status == Status::Pending,
            cancellable: matches!(o.status, Status::Pending | Status::Paid),
            refunded: o.status == Status::Cancelled && o.payment_id.is_some(),
            cancel_note: o.cancel_reason.as_deref().map(|r| match r {
                "cancelled_by_customer" => "Cancelled by you".to_owned(),
                "cancelled_by_admin" => "Cancelled by the shop".to_owned(),
                "expired" => "Expired: it was not paid in time".to_owned(),
                other => other.replace('_', " "),
            }),
            trace_id: o.trace_id.clone(),
            subtotal: format_money(o.subtotal, &o.currency),
            delivery: o.delivery.as_ref().map(|d| DeliveryView::of(d, &o.currency)),
        }
    }
}

/// The last eight hex digits of an id, for people (order ids are UUIDv7: their first digits
/// are a timestamp and look alike).
pub fn short_id(id: Uuid) -> String {
    shopcore::order_number::order_number(&id.to_string())
}

#[derive(Template)]
#[template(path = "orders.html")]
struct OrdersPage {
    page: Layout,
    orders: Vec<OrderView>,
}

/// `GET /orders`: the shopper's orders, newest first.
#[handler]
pub async fn list(Data(state): Data<&AppState>, Data(session): Data<&Session>) -> Result<Response, PageError> {
    let user = require_user(session, "/orders")?;
    let page: OrderPage = state.backends.as_user(&user.token).orders.get("/orders?limit=50").await?;
    // Admins see every order on the admin page; here, their own.
    let orders = page.items.iter().filter(|o| o.user_id == user.id).map(OrderView::from).collect();
    render(&OrdersPage { page: Layout::new(state, session, "Your orders").await?, orders })
}

#[derive(Template)]
#[template(path = "order.html")]
struct OrderDetailPage {
    page: Layout,
    order: OrderView,
}

/// The order `id` as the logged-in shopper may see it (log-in first, coming back to `next`).
pub(super) async fn fetch_order(state: &AppState, session: &Session, id: &str, next: &str) -> Result<Order, PageError> {
    let user = require_user(session, next)?;
    let id = Uuid::parse_str(id).map_err(|_| PageError::NotFound)?;
    Ok(state.backends.as_user(&user.token).orders.get(&format!("/orders/{id}")).await?)
}

/// `GET /orders/{id}`.
#[handler]
pub async fn detail(
    Data(state): Data<&AppState>,
    Data(session): Data<&Session>,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let order = fetch_order(state, session, &id, &format!("/orders/{id}")).await?;
    let view = OrderView::from(&order);
    render(&OrderDetailPage {
        page: Layout::new(state, session, format!("Order {}", view.short_id)).await?,
        order: view,
    })
}

/// `POST /orders/{id}/cancel`: cancel (a paid order is refunded).
#[handler]
pub async fn cancel(
    Data(state): Data<&AppState>,
    Data(session): Data<&Session>,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let order = fetch_order(state, session, &id, &format!("/orders/{id}")).await?;
    let Some(user) = session.user.as_ref() else { return Err(PageError::LoginRequired { next: "/orders".into() }) };
    let result: Result<Order, ClientError> =
        state.backends.as_user(&user.token).orders.post(&format!("/orders/{}/cancel", order.id), &(), None).await;
    let notice = match result {
        Ok(o) if o.payment_id.is_some() => "Order cancelled. Your payment has been refunded.".to_owned(),
        Ok(_) => "Order cancelled.".to_owned(),
        Err(err) => match rejection_detail(&err) {
            Some(reason) => format!("Could not cancel: {reason}"),
            None => return Err(err.into()),
        },
    };
    let mut conn = state.pool.acquire().await?;
    sessions::set_flash(&mut conn, &session.id_hash, &notice).await?;
    Ok(redirect(&format!("/orders/{}", order.id)))
}
