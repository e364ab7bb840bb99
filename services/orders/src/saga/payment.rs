//! Paying an order: record the attempt, charge through payments, record the outcome.
//!
//! The attempt's key is committed before the charge, so a crash between the charge and the
//! update leaves a pending order with a key: the sweeper asks payments what happened and
//! marks the order paid, or clears the key. While an attempt is in flight, a different
//! attempt is refused, so one order is never charged twice.

use shopkit::{auth::AuthUser, types::IdempotencyKey};
use shopwire::CardBody;
use uuid::Uuid;

use super::{Orders, authorize, load};
use crate::{
    clients::ChargeError,
    domain::{order::Order, status::OrderEvent},
    error::OrdersError,
    store::orders,
};

impl Orders {
    /// Pays a pending order with a card.
    #[tracing::instrument(name = "saga.pay_order", skip(self, caller, card, key), fields(order_id = %order_id), err(level = "info", Display))]
    pub async fn pay(
        &self,
        caller: &AuthUser,
        order_id: Uuid,
        card: &CardBody,
        key: &IdempotencyKey,
    ) -> Result<Order, OrdersError> {
        let mut tx = self.pool.begin().await?;
        let row = orders::lock(&mut tx, order_id).await?.ok_or(OrdersError::NotFound)?;
        authorize(caller, &row)?;
        let status = row.status().ok_or(OrdersError::NotFound)?;
        let (Some(amount), Some(currency)) = (row.total_minor, row.currency.clone()) else {
            return Err(OrdersError::NotFound);
        };
        let payments_key = key.derived_for(order_id);
        if row.payment_key.as_deref() == Some(key.as_str()) && row.payment_id.is_some() {
            // A replay of the attempt that paid. Payments holds the rule for a reused key:
            // the same request returns its first result (no second charge), another card is 422.
            tx.commit().await?;
            match self.deps.charge(order_id, amount, &currency, card, payments_key.as_str()).await {
                Ok(_) => {}
                Err(ChargeError::Refused(fields)) => return Err(fields.into()),
                Err(ChargeError::Failed(e)) => return Err(OrdersError::dependency(e)),
            }
            let mut conn = self.pool.acquire().await?;
            let row = orders::get(&mut conn, order_id).await?.ok_or(OrdersError::NotFound)?;
            return load(&mut conn, row).await;
        }
        status.transition(OrderEvent::Pay)?;
        if row.payment_key.as_deref().is_some_and(|k| k != key.as_str()) {
            return Err(OrdersError::Conflict("another payment of this order is in progress".into()));
        }
        orders::start_payment(&mut tx, order_id, key.as_str()).await?;
        tx.commit().await?;

        let outcome = self.deps.charge(order_id, amount, &currency, card, payments_key.as_str()).await;
        let mut conn = self.pool.acquire().await?;
        match outcome {
            Ok(payment) if payment.status == "succeeded" => {
                orders::mark_paid(&mut conn, order_id, payment.id).await?;
                shopkit::metrics::business::ORDERS_PAID.add(1, &[]);
                tracing::info!(%order_id, payment_id = %payment.id, "order paid");
            }
            Ok(payment) => {
                orders::clear_payment(&mut conn, order_id).await?;
                let code = payment.decline_code.unwrap_or_else(|| payment.status.clone());
                tracing::info!(%order_id, decline_code = %code, "payment declined");
                return Err(OrdersError::Declined(code));
            }
            Err(ChargeError::Refused(fields)) => {
                // The card or key was refused before any charge: the attempt is over.
                orders::clear_payment(&mut conn, order_id).await?;
                return Err(fields.into());
            }
            Err(ChargeError::Failed(e)) => {
                // Unknown outcome: keep the attempt recorded; a retry with the same key or the
                // sweeper settles it.
                return Err(OrdersError::dependency(e));
            }
        }
        let row = orders::get(&mut conn, order_id).await?.ok_or(OrdersError::NotFound)?;
        load(&mut conn, row).await
    }
}
