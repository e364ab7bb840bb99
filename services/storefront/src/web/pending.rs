//! The order a checkout placed and that waits for payment. The cart keeps its lines meanwhile
//! (see `migrations/0003_checkout_order.sql`): they leave it when that order is paid, and a new
//! checkout replaces the waiting order. Nothing here trusts the cart's record alone: the orders
//! service says what became of the order (paid on another tab, cancelled when its hold ran out).

use shopkit::client::ClientError;
use uuid::Uuid;

use super::{AppState, page::PageError};
use crate::{
    clients::{Backends, Order, Status},
    store::carts,
};

/// What became of the cart's last checkout.
pub enum Checkout {
    /// Nothing waits: no checkout, or its order was cancelled (by the shopper, or when its hold
    /// ran out). The cart is as the shopper left it.
    Nothing,
    /// The order waits for payment; its items are held.
    Waiting(Order),
    /// The order was paid since the cart last looked (on another page): its lines just left the
    /// cart.
    JustPaid(Order),
}

/// What became of the cart's last checkout, for `user_id`; a paid order is settled and a
/// cancelled or missing one forgotten on the way.
pub async fn look(state: &AppState, backends: &Backends, user_id: Uuid) -> Result<Checkout, PageError> {
    let mut conn = state.pool.acquire().await?;
    let Some(id) = carts::checkout_order(&mut conn, user_id).await? else { return Ok(Checkout::Nothing) };
    drop(conn);
    let order: Option<Order> = match backends.orders.get(&format!("/orders/{id}")).await {
        Ok(order) => Some(order),
        Err(ClientError::Rejected { status, .. }) if status == 404 => None,
        Err(err) => return Err(err.into()),
    };
    match order {
        Some(order) if order.status == Status::Pending => Ok(Checkout::Waiting(order)),
        Some(order) if order.status != Status::Cancelled => {
            settle(state, user_id, &order).await?;
            Ok(Checkout::JustPaid(order))
        }
        _ => {
            let mut conn = state.pool.acquire().await?;
            carts::set_checkout_order(&mut conn, user_id, None).await?;
            Ok(Checkout::Nothing)
        }
    }
}

/// `order` was paid: if the cart checked it out, the quantities it bought leave the cart.
pub async fn settle(state: &AppState, user_id: Uuid, order: &Order) -> Result<bool, PageError> {
    let bought: Vec<(Uuid, i32)> = order.items.iter().map(|line| (line.product_id, line.quantity)).collect();
    let mut conn = state.pool.acquire().await?;
    Ok(carts::settle(&mut conn, user_id, order.id, &bought).await?)
}

/// Before a new checkout: cancels the waiting order, so its stock is free for the new one.
/// `Ok(false)` when it had been paid meanwhile: its lines left the cart, and the shopper should
/// look at the cart before checking out again.
pub async fn make_way(state: &AppState, backends: &Backends, user_id: Uuid) -> Result<bool, PageError> {
    // Two looks at most: the order may be paid or cancelled between the look and the cancel.
    for _ in 0..2 {
        let order = match look(state, backends, user_id).await? {
            Checkout::Nothing => return Ok(true),
            Checkout::JustPaid(_) => return Ok(false),
            Checkout::Waiting(order) => order,
        };
        let cancelled: Result<Order, ClientError> =
            backends.orders.post(&format!("/orders/{}/cancel", order.id), &(), None).await;
        match cancelled {
            Ok(_) => {
                tracing::info!(order_id = %order.id, "a new checkout replaces the order waiting for payment");
                let mut conn = state.pool.acquire().await?;
                carts::set_checkout_order(&mut conn, user_id, None).await?;
                return Ok(true);
            }
            Err(ClientError::Rejected { status, .. }) if status == 409 => continue,
            Err(err) => return Err(err.into()),
        }
    }
    Err(PageError::Internal("the order waiting for payment kept changing".into()))
}
