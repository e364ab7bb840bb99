//! Paying an order: record the attempt, charge through payments, record the outcome.
//!
//! The attempt's key is committed before the charge, so a crash between the charge and the
//! update leaves a pending order with a key: the sweeper asks payments what happened and
//! marks the order paid, or clears the key. While an attempt is in flight, a different
//! attempt is refused, so one order is never charged twice.

use shopkit::{FieldErrors, auth::AuthUser, client::ClientError};
use uuid::Uuid;

use super::{OrderView, Orders, authorize, view};
use crate::{clients::CardDetails, domain::status::OrderEvent, error::OrdersError, store::orders};

impl Orders {
    /// Pays a pending order with a card.
    #[tracing::instrument(name = "saga.pay_order", skip(self, caller, card, key), fields(order_id = %order_id), err(Display))]
    pub async fn pay(
        &self,
        caller: &AuthUser,
        order_id: Uuid,
        card: &CardDetails,
        key: &str,
    ) -> Result<OrderView, OrdersError> {
        if key.is_empty() || key.len() > 200 {
            let mut errors = FieldErrors::default();
            errors.add("Idempotency-Key", "header is required (1-200 characters)");
            return Err(errors.into());
        }
        let mut tx = self.pool.begin().await?;
        let row = orders::lock(&mut tx, order_id).await?.ok_or(OrdersError::NotFound)?;
        authorize(caller, &row)?;
        let status = row.status().ok_or(OrdersError::NotFound)?;
        if row.payment_key.as_deref() == Some(key) && row.payment_id.is_some() {
            // A replay of the attempt that paid: same answer, no second charge.
            let order = view(&mut tx, row).await?;
            tx.commit().await?;
            return Ok(order);
        }
        status.transition(OrderEvent::Pay)?;
        if row.payment_key.as_deref().is_some_and(|k| k != key) {
            return Err(OrdersError::Conflict("another payment of this order is in progress".into()));
        }
        let (Some(amount), Some(currency)) = (row.total_minor, row.currency.clone()) else {
            return Err(OrdersError::NotFound);
        };
        orders::start_payment(&mut tx, order_id, key).await?;
        tx.commit().await?;

        let payments_key = format!("{order_id}:{key}");
        let outcome = self.deps.charge(order_id, amount, &currency, card, &payments_key).await;
        let mut conn = self.pool.acquire().await?;
        match outcome {
            Ok(payment) if payment.status == "succeeded" => {
                orders::mark_paid(&mut conn, order_id, payment.id).await?;
                tracing::info!(%order_id, payment_id = %payment.id, "order paid");
            }
            Ok(payment) => {
                orders::clear_payment(&mut conn, order_id).await?;
                let code = payment.decline_code.unwrap_or_else(|| payment.status.clone());
                tracing::info!(%order_id, decline_code = %code, "payment declined");
                return Err(OrdersError::Declined(code));
            }
            Err(ClientError::Rejected { status, problem, .. }) if status.as_u16() == 422 => {
                // The card or key was refused before any charge: the attempt is over.
                orders::clear_payment(&mut conn, order_id).await?;
                let mut errors = FieldErrors::default();
                for e in problem.and_then(|p| p.errors).unwrap_or_default() {
                    errors.add(e.field, e.message);
                }
                if errors.is_empty() {
                    errors.add("card", "was refused by the payment service");
                }
                return Err(errors.into());
            }
            Err(e) => {
                // Unknown outcome: keep the attempt recorded; a retry with the same key or the
                // sweeper settles it.
                return Err(OrdersError::dependency(e));
            }
        }
        let row = orders::get(&mut conn, order_id).await?.ok_or(OrdersError::NotFound)?;
        view(&mut conn, row).await
    }
}
