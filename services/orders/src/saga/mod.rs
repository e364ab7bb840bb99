//! The order flows, written as sagas: each step that can fail after another succeeded has a
//! compensation, and every half-done state is recorded in the database first, so a crash at
//! any point leaves something the sweeper ([`sweeper`]) finishes or undoes on restart.
//!
//! - [`create`]: check user -> reserve stock -> store lines (compensation: release).
//! - [`payment`]: record attempt -> charge -> mark paid (reconciled from payments after a crash).
//! - [`lifecycle`]: edit, ship, deliver, cancel (refund, then release), delete.
//! - [`read`]: one order or a page of them, as the caller may see them.
//! - [`sweeper`]: expiry of unpaid orders and recovery of interrupted sagas.
//!
//! The flows a request starts record their error at INFO: almost all are the client's
//! refusals (out of stock, card declined); a server failure is logged at ERROR by the
//! request log all the same.

pub mod create;
pub mod lifecycle;
pub mod payment;
pub mod read;
pub mod sweeper;

use std::time::Duration;

use chrono::{DateTime, Utc};
use shopkit::auth::AuthUser;
use sqlx::{PgConnection, PgPool};

use crate::{
    clients::Dependencies,
    domain::{access, order::Order},
    error::OrdersError,
    store::orders::{self, OrderRow},
};

/// Everything the flows need.
#[derive(Clone, Debug)]
pub struct Orders {
    /// The orders database.
    pub pool: PgPool,
    /// Its connections lent without sqlx's return ping (`shopkit::lender`), for the two
    /// statements of every new order.
    pub lender: std::sync::Arc<shopkit::lender::Lender>,
    /// Users, products, payments.
    pub deps: Dependencies,
    /// How long an unpaid order holds its stock.
    pub order_ttl: Duration,
}

/// Fails unless the access policy lets the caller at the order; saga stages are "not found"
/// to everyone, since they are not orders yet (or any more).
pub fn authorize(caller: &AuthUser, row: &OrderRow) -> Result<(), OrdersError> {
    access::may_access(caller, row.user_id)?;
    if row.status().is_some() { Ok(()) } else { Err(OrdersError::NotFound) }
}

/// The order of a row with a public status, with its lines.
pub async fn load(conn: &mut PgConnection, row: OrderRow) -> Result<Order, OrdersError> {
    let id = row.id;
    let lines = orders::lines(conn, id).await?;
    let mut order = row.into_order(lines).ok_or(OrdersError::NotFound)?;
    order.delivery = crate::store::deliveries::of(conn, &[id]).await?.remove(&id);
    Ok(order)
}

/// When an order placed now expires.
pub fn expiry_from_now(ttl: Duration) -> DateTime<Utc> {
    Utc::now() + chrono::Duration::from_std(ttl).unwrap_or_else(|_| chrono::Duration::minutes(15))
}
