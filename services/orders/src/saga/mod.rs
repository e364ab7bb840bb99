//! The order flows, written as sagas: each step that can fail after another succeeded has a
//! compensation, and every half-done state is recorded in the database first, so a crash at
//! any point leaves something the sweeper ([`sweeper`]) finishes or undoes on restart.
//!
//! - [`create`]: check user -> reserve stock -> store lines (compensation: release).
//! - [`payment`]: record attempt -> charge -> mark paid (reconciled from payments after a crash).
//! - [`lifecycle`]: edit, ship, deliver, cancel (refund, then release), delete.
//! - [`sweeper`]: expiry of unpaid orders and recovery of interrupted sagas.
//!
//! The flows a request starts record their error at INFO: almost all are the client's
//! refusals (out of stock, card declined); a server failure is logged at ERROR by the
//! request log all the same.

pub mod create;
pub mod lifecycle;
pub mod payment;
pub mod sweeper;

use std::time::Duration;

use chrono::{DateTime, Utc};
use shopkit::auth::{AuthUser, Role};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::{
    clients::Dependencies,
    domain::status::OrderStatus,
    error::OrdersError,
    store::orders::{self, LineRow, OrderRow},
};

/// Everything the flows need.
#[derive(Clone, Debug)]
pub struct Orders {
    /// The orders database.
    pub pool: PgPool,
    /// Users, products, payments.
    pub deps: Dependencies,
    /// How long an unpaid order holds its stock.
    pub order_ttl: Duration,
}

/// An order with its lines, as the API shows it.
#[derive(Debug, Clone)]
pub struct OrderView {
    /// The order row.
    pub row: OrderRow,
    /// Its public status.
    pub status: OrderStatus,
    /// Its lines.
    pub lines: Vec<LineRow>,
}

impl Orders {
    /// Loads an order the caller may see: its owner, an admin, or a service. Anyone else,
    /// and saga stages, get "not found", so order ids cannot be probed.
    pub async fn visible(
        &self,
        conn: &mut PgConnection,
        caller: &AuthUser,
        id: Uuid,
    ) -> Result<OrderView, OrdersError> {
        let row = orders::get(conn, id).await?.ok_or(OrdersError::NotFound)?;
        authorize(caller, &row)?;
        view(conn, row).await
    }
}

/// Fails with "not found" unless the caller owns the order or is staff/a service.
pub fn authorize(caller: &AuthUser, row: &OrderRow) -> Result<(), OrdersError> {
    let allowed = match caller.role {
        Role::Admin | Role::Service => true,
        Role::Customer => caller.user_id().is_ok_and(|me| me == row.user_id),
    };
    if allowed && row.status().is_some() { Ok(()) } else { Err(OrdersError::NotFound) }
}

/// Adds the lines to a row with a public status.
pub async fn view(conn: &mut PgConnection, row: OrderRow) -> Result<OrderView, OrdersError> {
    let status = row.status().ok_or(OrdersError::NotFound)?;
    let lines = orders::lines(conn, row.id).await?;
    Ok(OrderView { row, status, lines })
}

/// When an order placed now expires.
pub fn expiry_from_now(ttl: Duration) -> DateTime<Utc> {
    Utc::now() + chrono::Duration::from_std(ttl).unwrap_or_else(|_| chrono::Duration::minutes(15))
}
