//! Placing an order: check the user, reserve the stock, store the snapshot.

use shopkit::{FieldErrors, auth::AuthUser};
use uuid::Uuid;

use super::{Orders, expiry_from_now, load};
use crate::{
    clients::{ReserveError, ReservedLine},
    domain::{
        access,
        delivery::{Delivery, DeliveryRequest},
        items::{Items, total_minor},
        order::Order,
    },
    error::OrdersError,
    store::{
        deliveries,
        orders::{self, CreateStart, LineRow, NewLine},
    },
};

/// What a create call produced.
#[derive(Debug)]
pub enum Placed {
    /// A new order.
    New(Order),
    /// The order an earlier request with the same idempotency key created.
    Replayed(Order),
}

fn request_hash(user_id: Uuid, items: &Items, delivery: Option<&DeliveryRequest>) -> String {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    ctx.update(user_id.as_bytes());
    for (product, quantity) in items.as_slice() {
        ctx.update(product.as_bytes());
        ctx.update(&quantity.to_le_bytes());
    }
    // Orders placed before deliveries existed hashed no delivery: none still adds nothing.
    if let Some(delivery) = delivery {
        ctx.update(b"\x1edelivery\x1e");
        ctx.update(delivery.fingerprint().as_bytes());
    }
    ctx.finish().as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// Snapshot lines in the client's item order, with one currency and the total.
fn snapshot(items: &Items, reserved: &[ReservedLine]) -> Result<(Vec<NewLine>, String, i64), FieldErrors> {
    let mut errors = FieldErrors::default();
    let mut lines = Vec::new();
    for (product_id, quantity) in items.as_slice() {
        match reserved.iter().find(|l| l.product_id == *product_id) {
            Some(l) => lines.push(NewLine {
                product_id: *product_id,
                name: l.name.clone(),
                unit_price_minor: l.unit_price,
                quantity: *quantity,
            }),
            None => errors.add("items", format!("product {product_id} missing from the reservation")),
        }
    }
    let currency = reserved.first().map(|l| l.currency.clone()).unwrap_or_default();
    if reserved.iter().any(|l| l.currency != currency) {
        errors.add("items", "all products of one order must be priced in the same currency");
    }
    let priced: Vec<(i64, i32)> = lines.iter().map(|l| (l.unit_price_minor, l.quantity)).collect();
    let total = total_minor(&priced).unwrap_or_else(|| {
        errors.add("items", "the order total is too large");
        0
    });
    if errors.is_empty() { Ok((lines, currency, total)) } else { Err(errors) }
}

impl Orders {
    /// Places an order, all or nothing.
    #[tracing::instrument(name = "saga.place_order", skip_all, fields(order_id), err(level = "info", Display))]
    pub async fn place(
        &self,
        caller: &AuthUser,
        requested_user: Option<Uuid>,
        raw_items: &[(Uuid, i64)],
        delivery: Option<DeliveryRequest>,
        idempotency_key: Option<&str>,
    ) -> Result<Placed, OrdersError> {
        let user_id = access::owner_of_new_order(caller, requested_user)?;
        let items = Items::parse(raw_items)?;
        let hash = request_hash(user_id, &items, delivery.as_ref());
        let order_id = Uuid::now_v7();
        tracing::Span::current().record("order_id", tracing::field::display(order_id));
        let trace_id = shopkit::telemetry::current_trace_ids().map(|(trace, _)| trace);
        // The orders connection is held only while this service's own statements run, never
        // across the calls to users and products: a pool of N connections would otherwise
        // cap the shop at N orders in flight, however fast the other services answer. Every
        // statement of placing an order runs on a connection lent for that statement alone.
        let started = self
            .lender
            .lend(async |conn| {
                orders::start(conn, order_id, user_id, idempotency_key, &hash, trace_id.as_deref()).await
            })
            .await?;
        if let CreateStart::Existing(existing) = started {
            return self.lender.lend(async |conn| replay(conn, *existing, &hash).await).await;
        }
        match self.deps.user_exists(order_id, user_id).await {
            Ok(true) => {}
            Ok(false) => {
                self.forget(order_id).await?;
                // Ordering for oneself with the token of a deleted account is an authentication
                // problem (401), not a bad field; an admin naming a missing customer is a bad field.
                if caller.user_id().is_ok_and(|me| me == user_id) {
                    return Err(OrdersError::AccountGone);
                }
                let mut errors = FieldErrors::default();
                errors.add("user_id", format!("user {user_id} does not exist"));
                return Err(errors.into());
            }
            Err(e) => {
                self.forget(order_id).await?;
                return Err(OrdersError::dependency(e));
            }
        }
        let reserved = match self.deps.reserve(order_id, items.as_slice()).await {
            Ok(lines) => lines,
            Err(ReserveError::Refused(refusal)) => {
                // Refused all or nothing by products: nothing is held, nothing to undo.
                self.forget(order_id).await?;
                return Err(OrdersError::StockRefused(refusal));
            }
            Err(ReserveError::Failed(e)) => {
                // Unknown outcome (timeout): the stock may be held. Undo in the background so
                // the client gets its 503 now; the sweeper retries if this fails too.
                self.compensate_in_background(order_id).await;
                return Err(OrdersError::dependency(e));
            }
        };
        let (lines, currency, items_total) = match snapshot(&items, &reserved) {
            Ok(s) => s,
            Err(errors) => {
                self.compensate_in_background(order_id).await;
                return Err(errors.into());
            }
        };
        let delivery = match self.deliver(order_id, delivery, &currency, items_total).await {
            Ok(delivery) => delivery,
            Err(err) => {
                self.compensate_in_background(order_id).await;
                return Err(err);
            }
        };
        let shipping = delivery.as_ref().map_or(0, |d| d.quote.shipping_minor);
        let total = items_total.saturating_add(shipping);
        let expires_at = expiry_from_now(self.order_ttl);
        let completed = self
            .lender
            .lend(async |conn| orders::complete(conn, order_id, &lines, &currency, total, expires_at).await)
            .await;
        let row = match completed {
            Ok(Some(row)) => row,
            Ok(None) => {
                // The sweeper gave up on this creation while products answered; it is
                // releasing the stock, so the order is not placed.
                return Err(OrdersError::Conflict("the order took too long to place; please retry".into()));
            }
            Err(e) => {
                self.compensate_in_background(order_id).await;
                return Err(e.into());
            }
        };
        tracing::info!(%order_id, %user_id, total, "order placed");
        let lines = lines
            .into_iter()
            .map(|l| LineRow {
                product_id: l.product_id,
                name: l.name,
                unit_price_minor: l.unit_price_minor,
                quantity: l.quantity,
            })
            .collect();
        let mut order = row.into_order(lines).ok_or(OrdersError::NotFound)?;
        order.delivery = delivery;
        shopkit::metrics::business::ORDERS_PLACED.add(1, &[]);
        Ok(Placed::New(order))
    }

    /// Removes the row of a creation that holds no stock (refused, or its user gone).
    /// Prices the delivery the customer asked for and records it on the order (still
    /// `reserving`, so a failed placement deletes it with the order). 422 when the shop does
    /// not ship there that way in the order's currency.
    async fn deliver(
        &self,
        order_id: Uuid,
        request: Option<DeliveryRequest>,
        currency: &str,
        items_minor: i64,
    ) -> Result<Option<Delivery>, OrdersError> {
        let Some(request) = request else { return Ok(None) };
        let (country, method) = (request.address.country.clone(), request.method);
        let quote = self
            .lender
            .lend(async |conn| deliveries::quote(conn, &country, method, currency, items_minor).await)
            .await?;
        let Some(quote) = quote else {
            let mut errors = FieldErrors::default();
            errors.add(
                "delivery.address.country",
                format!("the shop does not deliver to {country} by {} for orders in {currency}", method.as_str()),
            );
            return Err(errors.into());
        };
        let delivery = Delivery { address: request.address, method, quote };
        self.lender.lend(async |conn| deliveries::insert(conn, order_id, &delivery).await).await?;
        Ok(Some(delivery))
    }

    async fn forget(&self, order_id: Uuid) -> Result<(), sqlx::Error> {
        self.lender.lend(async |conn| orders::delete(conn, order_id).await).await
    }

    /// Marks a creation failed and releases its stock in a background task; the row is
    /// removed once the stock is back (by this task, or later by the sweeper).
    async fn compensate_in_background(&self, order_id: Uuid) {
        // Best effort: if this fails the row stays `reserving` and the sweeper recovers it.
        let _ = self.lender.lend(async |conn| orders::mark_failed(conn, order_id).await).await;
        let this = self.clone();
        tokio::spawn(async move {
            if let Err(err) = this.undo_creation(order_id).await {
                tracing::warn!(%order_id, error = %err, "compensation deferred to the sweeper");
            }
        });
    }

    /// Releases a failed creation's stock, then forgets the order.
    #[tracing::instrument(name = "saga.compensate_creation", skip(self), err(Display))]
    pub(crate) async fn undo_creation(&self, order_id: uuid::Uuid) -> Result<(), OrdersError> {
        self.deps.release(order_id).await.map_err(OrdersError::dependency)?;
        let mut conn = self.pool.acquire().await?;
        orders::delete(&mut conn, order_id).await?;
        tracing::info!(%order_id, "failed order creation undone");
        Ok(())
    }
}

async fn replay(conn: &mut sqlx::PgConnection, existing: orders::OrderRow, hash: &str) -> Result<Placed, OrdersError> {
    if existing.request_hash != hash {
        let mut errors = FieldErrors::default();
        errors.add("Idempotency-Key", "was already used for a different order; use a new key");
        return Err(errors.into());
    }
    if existing.status().is_none() {
        return Err(OrdersError::Conflict(
            "an order with this Idempotency-Key is still being placed; retry shortly".into(),
        ));
    }
    Ok(Placed::Replayed(load(conn, existing).await?))
}
