//! The background sweeper: expires unpaid orders and finishes or undoes interrupted sagas.
//!
//! Each pass locks a batch with `FOR UPDATE SKIP LOCKED`, so any number of replicas can run
//! it at once: a row is handled by exactly one of them, and rows a request is working on
//! (locked) are left alone.

use std::time::Duration;

use uuid::Uuid;

use super::Orders;
use crate::{domain::status::OrderStatus, error::OrdersError, store::orders};

/// Rows handled per pass.
const BATCH: i64 = 20;

impl Orders {
    /// Cancels pending orders past their expiry and gives their stock back. Returns how many.
    #[tracing::instrument(name = "saga.expire_orders", skip(self), err(Display))]
    pub async fn expire_due(&self) -> Result<usize, OrdersError> {
        let mut tx = self.pool.begin().await?;
        let due = orders::lock_expired(&mut tx, BATCH).await?;
        for row in &due {
            orders::set_status(&mut tx, row.id, OrderStatus::Cancelled, Some("expired")).await?;
        }
        tx.commit().await?;
        for row in &due {
            tracing::info!(order_id = %row.id, "unpaid order expired");
            shopkit::metrics::business::count_with_reason(&shopkit::metrics::business::ORDERS_CANCELLED, "expired");
            shopkit::metrics::business::RESERVATIONS_EXPIRED.add(1, &[]);
            self.release_cancelled(row.id).await;
        }
        Ok(due.len())
    }

    /// Settles sagas left half-done for longer than `stale`: failed or interrupted creations
    /// are undone, interrupted payments reconciled with payments, unreleased stock of
    /// cancelled orders released. Returns how many orders were settled.
    #[tracing::instrument(name = "saga.recover_orders", skip(self), err(Display))]
    pub async fn recover(&self, stale: Duration) -> Result<usize, OrdersError> {
        let mut tx = self.pool.begin().await?;
        let rows = orders::lock_to_recover(&mut tx, stale.as_secs_f64(), BATCH).await?;
        let mut settled = 0;
        for row in rows {
            let done = match (row.status.as_str(), row.payment_key.is_some()) {
                ("reserving" | "failed", _) => self.recover_creation(&mut tx, row.id).await,
                ("pending", true) => self.recover_payment(&mut tx, row.id).await,
                ("cancelled", _) => self.recover_release(&mut tx, row.id).await,
                _ => Ok(false),
            };
            match done {
                Ok(true) => settled += 1,
                Ok(false) => {}
                Err(err) => tracing::warn!(order_id = %row.id, error = %err, "recovery will be retried"),
            }
        }
        tx.commit().await?;
        Ok(settled)
    }

    async fn recover_creation(&self, conn: &mut sqlx::PgConnection, order_id: Uuid) -> Result<bool, OrdersError> {
        self.deps.release(order_id).await.map_err(OrdersError::dependency)?;
        orders::delete(conn, order_id).await?;
        tracing::info!(%order_id, "interrupted order creation undone");
        Ok(true)
    }

    async fn recover_payment(&self, conn: &mut sqlx::PgConnection, order_id: Uuid) -> Result<bool, OrdersError> {
        let payments = self.deps.payments_of(order_id).await.map_err(OrdersError::dependency)?;
        match payments.iter().find(|p| p.status == "succeeded") {
            Some(payment) => {
                orders::mark_paid(conn, order_id, payment.id).await?;
                tracing::info!(%order_id, payment_id = %payment.id, "interrupted payment completed");
            }
            None => {
                orders::clear_payment(conn, order_id).await?;
                tracing::info!(%order_id, "interrupted payment attempt cleared (no charge was made)");
            }
        }
        Ok(true)
    }

    async fn recover_release(&self, conn: &mut sqlx::PgConnection, order_id: Uuid) -> Result<bool, OrdersError> {
        self.deps.release(order_id).await.map_err(OrdersError::dependency)?;
        orders::mark_stock_released(conn, order_id).await?;
        Ok(true)
    }

    /// Runs expiry and recovery every `interval` until `shutdown` fires.
    pub async fn sweep_forever(
        self,
        interval: Duration,
        stale: Duration,
        mut shutdown: tokio::sync::watch::Receiver<bool>,
    ) {
        loop {
            if let Err(err) = self.expire_due().await {
                tracing::warn!(error = %err, "expiry pass failed");
            }
            if let Err(err) = self.recover(stale).await {
                tracing::warn!(error = %err, "recovery pass failed");
            }
            tokio::select! {
                () = tokio::time::sleep(interval) => {}
                _ = shutdown.changed() => return,
            }
        }
    }
}
