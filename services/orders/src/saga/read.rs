//! Reading orders: one order, or a page of them, as the access policy lets the caller see.

use std::collections::HashMap;

use shopkit::auth::AuthUser;
use uuid::Uuid;

use super::{Orders, authorize, load};
use crate::{
    domain::{
        access,
        listing::{ListQuery, ListRequest, OrderCursor},
        order::Order,
    },
    error::OrdersError,
    store::orders::{self, LineRow},
};

/// A page of orders, newest first.
#[derive(Debug, Clone)]
pub struct OrderPage {
    /// The orders of this page.
    pub orders: Vec<Order>,
    /// Where the next page starts; `None` on the last page, and for numbered pages.
    pub next: Option<OrderCursor>,
    /// How many orders match, for numbered pages.
    pub total: Option<i64>,
}

impl Orders {
    /// An order the caller may see: its owner, an admin, or a service. Anyone else, and saga
    /// stages, get "not found".
    #[tracing::instrument(name = "saga.get_order", skip(self, caller), err(level = "info", Display))]
    pub async fn get(&self, caller: &AuthUser, id: Uuid) -> Result<Order, OrdersError> {
        let mut conn = self.pool.acquire().await?;
        let row = orders::get(&mut conn, id).await?.ok_or(OrdersError::NotFound)?;
        authorize(caller, &row)?;
        load(&mut conn, row).await
    }

    /// A page of the orders the caller may list: a customer's own, or (staff, services)
    /// everyone's or one customer's. The page's lines come in one query, whatever its size.
    #[tracing::instrument(name = "saga.list_orders", skip_all, err(level = "info", Display))]
    pub async fn list(
        &self,
        caller: &AuthUser,
        requested_user: Option<Uuid>,
        request: ListRequest<'_>,
    ) -> Result<OrderPage, OrdersError> {
        let owner = access::list_scope(caller, requested_user)?;
        let query = ListQuery::parse(owner, request)?;
        let mut conn = self.pool.acquire().await?;
        let mut rows = orders::list(&mut conn, &query).await?;
        let total = match query.page {
            Some(_) => Some(orders::count(&mut conn, &query).await?),
            None => None,
        };
        let page_size = usize::try_from(query.limit).unwrap_or(usize::MAX);
        let more = rows.len() > page_size;
        rows.truncate(page_size);
        // A numbered page says where it is with the total instead.
        let next = if more && query.page.is_none() {
            rows.last().map(|r| OrderCursor { created_at: r.created_at, id: r.id })
        } else {
            None
        };
        let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
        let mut lines: HashMap<Uuid, Vec<LineRow>> = HashMap::new();
        for owned in orders::lines_of(&mut conn, &ids).await? {
            // Each order's lines arrive in position order, so pushing keeps that order.
            lines.entry(owned.order_id).or_default().push(owned.line);
        }
        let mut deliveries = crate::store::deliveries::of(&mut conn, &ids).await?;
        let mut page = Vec::with_capacity(rows.len());
        for row in rows {
            let id = row.id;
            let lines = lines.remove(&id).unwrap_or_default();
            let mut order = row.into_order(lines).ok_or(OrdersError::NotFound)?;
            order.delivery = deliveries.remove(&id);
            page.push(order);
        }
        Ok(OrderPage { orders: page, next, total })
    }
}
