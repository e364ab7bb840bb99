//! Editing, shipping, delivering, cancelling and deleting orders.

use shopkit::auth::AuthUser;
use uuid::Uuid;

use super::{Orders, authorize, load};
use crate::{
    clients::{ReserveError, ReservedLine},
    domain::{
        access,
        items::{Items, total_minor},
        order::Order,
        status::{OrderEvent, OrderStatus},
    },
    error::OrdersError,
    store::orders::{self, NewLine},
};

impl Orders {
    /// Replaces the items of a pending order; the reservation is adjusted all or nothing
    /// (on a refusal the order and its stock stay as they were).
    #[tracing::instrument(name = "saga.edit_order", skip(self, caller, raw_items), fields(order_id = %order_id), err(level = "info", Display))]
    pub async fn edit_items(
        &self,
        caller: &AuthUser,
        order_id: Uuid,
        raw_items: &[(Uuid, i64)],
    ) -> Result<Order, OrdersError> {
        let items = Items::parse(raw_items)?;
        let mut tx = self.pool.begin().await?;
        let row = orders::lock(&mut tx, order_id).await?.ok_or(OrdersError::NotFound)?;
        authorize(caller, &row)?;
        row.status().ok_or(OrdersError::NotFound)?.transition(OrderEvent::Edit)?;
        if row.payment_key.is_some() {
            return Err(OrdersError::Conflict("a payment of this order is in progress".into()));
        }
        let reserved = match self.deps.reserve(order_id, items.as_slice()).await {
            Ok(lines) => lines,
            Err(ReserveError::Refused(refusal)) => return Err(OrdersError::StockRefused(refusal)),
            Err(ReserveError::Failed(e)) => return Err(OrdersError::dependency(e)),
        };
        let lines = lines_in_order(&items, &reserved);
        let priced: Vec<(i64, i32)> = lines.iter().map(|l| (l.unit_price_minor, l.quantity)).collect();
        let total = total_minor(&priced).ok_or_else(|| OrdersError::Conflict("the order total is too large".into()))?;
        orders::update_lines(&mut tx, order_id, &lines, total).await?;
        let row = orders::get(&mut tx, order_id).await?.ok_or(OrdersError::NotFound)?;
        let order = load(&mut tx, row).await?;
        tx.commit().await?;
        tracing::info!(%order_id, total, "order items changed");
        Ok(order)
    }

    /// Moves a paid order to shipped, or a shipped one to delivered (admin).
    #[tracing::instrument(name = "saga.advance_order", skip(self, caller), fields(order_id = %order_id), err(level = "info", Display))]
    pub async fn advance(&self, caller: &AuthUser, order_id: Uuid, event: OrderEvent) -> Result<Order, OrdersError> {
        let mut tx = self.pool.begin().await?;
        let row = orders::lock(&mut tx, order_id).await?.ok_or(OrdersError::NotFound)?;
        authorize(caller, &row)?;
        access::may_advance(caller)?;
        let next = row.status().ok_or(OrdersError::NotFound)?.transition(event)?;
        orders::set_status(&mut tx, order_id, next, None).await?;
        let row = orders::get(&mut tx, order_id).await?.ok_or(OrdersError::NotFound)?;
        let order = load(&mut tx, row).await?;
        tx.commit().await?;
        tracing::info!(%order_id, status = next.as_str(), "order advanced");
        Ok(order)
    }

    /// Cancels a pending or paid order: a paid one is refunded first; then the stock goes back.
    #[tracing::instrument(name = "saga.cancel_order", skip(self, caller), fields(order_id = %order_id), err(level = "info", Display))]
    pub async fn cancel(&self, caller: &AuthUser, order_id: Uuid) -> Result<Order, OrdersError> {
        let mut tx = self.pool.begin().await?;
        let row = orders::lock(&mut tx, order_id).await?.ok_or(OrdersError::NotFound)?;
        authorize(caller, &row)?;
        let current = row.status().ok_or(OrdersError::NotFound)?;
        current.transition(OrderEvent::Cancel)?;
        if current == OrderStatus::Pending && row.payment_key.is_some() {
            return Err(OrdersError::Conflict("a payment of this order is in progress; retry shortly".into()));
        }
        if let Some(payment_id) = row.payment_id.filter(|_| current == OrderStatus::Paid) {
            // Refund before anything else: if it fails the order stays paid and consistent.
            self.deps.refund(order_id, payment_id).await.map_err(OrdersError::dependency)?;
            tracing::info!(%order_id, %payment_id, "payment refunded");
        }
        let reason = access::cancel_reason(caller);
        orders::set_status(&mut tx, order_id, OrderStatus::Cancelled, Some(reason)).await?;
        tx.commit().await?;
        shopkit::metrics::business::count_with_reason(&shopkit::metrics::business::ORDERS_CANCELLED, reason);
        self.release_cancelled(order_id).await;
        let mut conn = self.pool.acquire().await?;
        let row = orders::get(&mut conn, order_id).await?.ok_or(OrdersError::NotFound)?;
        load(&mut conn, row).await
    }

    /// Gives back a cancelled order's stock; on failure the sweeper retries later.
    pub(crate) async fn release_cancelled(&self, order_id: Uuid) {
        match self.deps.release(order_id).await {
            Ok(()) => {
                if let Ok(mut conn) = self.pool.acquire().await {
                    let _ = orders::mark_stock_released(&mut conn, order_id).await;
                }
            }
            Err(err) => tracing::warn!(%order_id, error = %err, "stock release deferred to the sweeper"),
        }
    }

    /// Deletes a pending (after releasing its stock) or cancelled order. Paid, shipped and
    /// delivered orders are kept: cancel first.
    #[tracing::instrument(name = "saga.delete_order", skip(self, caller), fields(order_id = %order_id), err(level = "info", Display))]
    pub async fn delete(&self, caller: &AuthUser, order_id: Uuid) -> Result<(), OrdersError> {
        let mut tx = self.pool.begin().await?;
        let row = orders::lock(&mut tx, order_id).await?.ok_or(OrdersError::NotFound)?;
        authorize(caller, &row)?;
        let status = row.status().ok_or(OrdersError::NotFound)?;
        if !status.deletable() {
            return Err(OrdersError::Conflict(format!(
                "an order that is {} cannot be deleted; cancel it first",
                status.as_str()
            )));
        }
        if row.payment_key.is_some() && status == OrderStatus::Pending {
            return Err(OrdersError::Conflict("a payment of this order is in progress; retry shortly".into()));
        }
        if status == OrderStatus::Pending || !row.stock_released {
            self.deps.release(order_id).await.map_err(OrdersError::dependency)?;
        }
        orders::delete(&mut tx, order_id).await?;
        tx.commit().await?;
        tracing::info!(%order_id, "order deleted");
        Ok(())
    }
}

/// Snapshot lines for `items`, in the client's order, from the reservation's answer.
fn lines_in_order(items: &Items, reserved: &[ReservedLine]) -> Vec<NewLine> {
    items
        .as_slice()
        .iter()
        .filter_map(|(product_id, quantity)| {
            reserved.iter().find(|l| l.product_id == *product_id).map(|l| NewLine {
                product_id: *product_id,
                name: l.name.clone(),
                unit_price_minor: l.unit_price,
                quantity: *quantity,
            })
        })
        .collect()
}
