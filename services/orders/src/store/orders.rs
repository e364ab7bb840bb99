//! Orders and lines.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::{
    listing::ListQuery,
    order::{Order, OrderLine},
    status::OrderStatus,
};

/// An order row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OrderRow {
    pub id: Uuid,
    pub user_id: Uuid,
    /// Status or saga stage.
    pub status: String,
    /// Currency of every line.
    pub currency: Option<String>,
    /// Total in minor units.
    pub total_minor: Option<i64>,
    /// Hash of the creating request.
    pub request_hash: String,
    /// Key of the payment attempt in flight or done.
    pub payment_key: Option<String>,
    /// The successful payment.
    pub payment_id: Option<Uuid>,
    /// Whether a cancelled order's stock is back.
    pub stock_released: bool,
    /// Why it was cancelled.
    pub cancel_reason: Option<String>,
    /// When an unpaid order expires.
    pub expires_at: Option<DateTime<Utc>>,
    /// Orders are listed newest first by this (and the id).
    pub created_at: DateTime<Utc>,
    /// The sweeper recovers sagas that have not moved for a while by this.
    pub updated_at: DateTime<Utc>,
    /// Trace id of the request that placed it.
    pub trace_id: Option<String>,
}

impl OrderRow {
    /// The public status; `None` for saga stages.
    pub fn status(&self) -> Option<OrderStatus> {
        OrderStatus::parse(&self.status)
    }

    /// The order with its `lines`; `None` while it is a saga stage, not yet (or no longer) an
    /// order anyone may see.
    pub fn into_order(self, lines: Vec<LineRow>) -> Option<Order> {
        let status = self.status()?;
        Some(Order {
            id: self.id,
            user_id: self.user_id,
            status,
            lines: lines.into_iter().map(LineRow::into_line).collect(),
            total_minor: self.total_minor.unwrap_or_default(),
            currency: self.currency.unwrap_or_default(),
            payment_id: self.payment_id,
            cancel_reason: self.cancel_reason,
            expires_at: self.expires_at.filter(|_| status == OrderStatus::Pending),
            created_at: self.created_at,
            updated_at: self.updated_at,
            trace_id: self.trace_id,
            delivery: None,
        })
    }
}

/// A line with its snapshot.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LineRow {
    pub product_id: Uuid,
    /// Product name when ordered.
    pub name: String,
    /// Unit price when ordered.
    pub unit_price_minor: i64,
    pub quantity: i32,
}

impl LineRow {
    fn into_line(self) -> OrderLine {
        OrderLine {
            product_id: self.product_id,
            name: self.name,
            unit_price_minor: self.unit_price_minor,
            quantity: self.quantity,
        }
    }
}

/// A line to store.
#[derive(Debug, Clone)]
pub struct NewLine {
    pub product_id: Uuid,
    /// Name snapshot.
    pub name: String,
    /// Price snapshot.
    pub unit_price_minor: i64,
    pub quantity: i32,
}

/// The order columns, for the one statement built at run time ([`list`]); the static statements
/// (`query_as!`) spell them out so the compiler checks them against the schema.
const COLUMNS: &str = "id, user_id, status, currency, total_minor, request_hash, payment_key, payment_id, stock_released, cancel_reason, expires_at, created_at, updated_at, trace_id";

/// The result of starting a creation.
#[derive(Debug)]
pub enum CreateStart {
    /// A new order row in stage `reserving`.
    Started,
    /// The idempotency key was used before: that order.
    Existing(Box<OrderRow>),
}

/// Inserts the order in stage `reserving`, unless the user already used `key`.
pub async fn start(
    conn: &mut PgConnection,
    id: Uuid,
    user_id: Uuid,
    key: Option<&str>,
    request_hash: &str,
    trace_id: Option<&str>,
) -> Result<CreateStart, sqlx::Error> {
    shopkit::dbop::traced("INSERT orders", async move {
    let inserted = sqlx::query!(
        "INSERT INTO orders (id, user_id, status, idempotency_key, request_hash, trace_id)
         VALUES ($1, $2, 'reserving', $3, $4, $5)
         ON CONFLICT (user_id, idempotency_key) DO NOTHING",
        id,
        user_id,
        key,
        request_hash,
        trace_id
    )
    .execute(&mut *conn)
    .await?;
    if inserted.rows_affected() == 1 {
        return Ok(CreateStart::Started);
    }
    let existing = sqlx::query_as!(
        OrderRow,
        "SELECT id, user_id, status, currency, total_minor, request_hash, payment_key, payment_id, stock_released, cancel_reason,
                expires_at, created_at, updated_at, trace_id
         FROM orders WHERE user_id = $1 AND idempotency_key = $2",
        user_id,
        key
    )
    .fetch_one(conn)
    .await?;
    Ok(CreateStart::Existing(Box::new(existing)))
    })
    .await
}

/// The lines as one array per column, for an `unnest` insert (one statement for any number
/// of lines).
type LineColumns<'a> = (Vec<i32>, Vec<Uuid>, Vec<&'a str>, Vec<i64>, Vec<i32>);

fn line_columns(lines: &[NewLine]) -> LineColumns<'_> {
    let positions: Vec<i32> = (0..lines.len()).map(|p| i32::try_from(p).unwrap_or(i32::MAX)).collect();
    let products: Vec<Uuid> = lines.iter().map(|l| l.product_id).collect();
    let names: Vec<&str> = lines.iter().map(|l| l.name.as_str()).collect();
    let prices: Vec<i64> = lines.iter().map(|l| l.unit_price_minor).collect();
    let quantities: Vec<i32> = lines.iter().map(|l| l.quantity).collect();
    (positions, products, names, prices, quantities)
}

/// Stores the reserved lines and makes the order `pending`, in one statement (so lines and
/// status change together or not at all) and one round trip: the lines go in as arrays
/// through `unnest`, and only if the order is still `reserving` (the sweeper may have given
/// up on it meanwhile). Returns the updated row, or `None` if the order was not `reserving`.
pub async fn complete(
    conn: &mut PgConnection,
    id: Uuid,
    lines: &[NewLine],
    currency: &str,
    total_minor: i64,
    expires_at: DateTime<Utc>,
) -> Result<Option<OrderRow>, sqlx::Error> {
    shopkit::dbop::traced("UPDATE orders INSERT order_lines", async move {
        let (positions, products, names, prices, quantities) = line_columns(lines);
        // Columns that come out of a CTE carry no table, so their NOT NULL is stated ("name!").
        sqlx::query_as!(
            OrderRow,
            r#"WITH completed AS (
            UPDATE orders SET status = 'pending', currency = $2, total_minor = $3, expires_at = $4, updated_at = now()
            WHERE id = $1 AND status = 'reserving'
            RETURNING *
         ), stored AS (
            INSERT INTO order_lines (order_id, position, product_id, name, unit_price_minor, quantity)
            SELECT completed.id, l.position, l.product_id, l.name, l.unit_price_minor, l.quantity
            FROM completed, unnest($5::int[], $6::uuid[], $7::text[], $8::bigint[], $9::int[])
                 AS l(position, product_id, name, unit_price_minor, quantity)
         ), event AS (
            INSERT INTO outbox (id, order_id, kind, payload, traceparent)
            SELECT $10, completed.id, 'OrderPlaced',
                   json_build_object('order_id', completed.id, 'user_id', completed.user_id, 'status', completed.status,
                                     'total', completed.total_minor, 'currency', completed.currency,
                                     'cancel_reason', completed.cancel_reason)::text,
                   $11
            FROM completed
         )
         SELECT id AS "id!", user_id AS "user_id!", status AS "status!", currency, total_minor,
                request_hash AS "request_hash!", payment_key, payment_id, stock_released AS "stock_released!",
                cancel_reason, expires_at, created_at AS "created_at!", updated_at AS "updated_at!", trace_id
         FROM completed"#,
            id,
            currency,
            total_minor,
            expires_at,
            &positions,
            &products,
            &names as &[&str],
            &prices,
            &quantities,
            Uuid::now_v7(),
            shopkit::telemetry::propagation::current_traceparent()
        )
        .fetch_optional(conn)
        .await
    })
    .await
}

/// Replaces the lines of an order: one delete, then every line in one `unnest` insert.
pub async fn replace_lines(conn: &mut PgConnection, id: Uuid, lines: &[NewLine]) -> Result<(), sqlx::Error> {
    shopkit::dbop::traced("DELETE order_lines INSERT order_lines", async move {
        sqlx::query!("DELETE FROM order_lines WHERE order_id = $1", id).execute(&mut *conn).await?;
        let (positions, products, names, prices, quantities) = line_columns(lines);
        sqlx::query!(
            "INSERT INTO order_lines (order_id, position, product_id, name, unit_price_minor, quantity)
         SELECT $1, l.position, l.product_id, l.name, l.unit_price_minor, l.quantity
         FROM unnest($2::int[], $3::uuid[], $4::text[], $5::bigint[], $6::int[])
              AS l(position, product_id, name, unit_price_minor, quantity)",
            id,
            &positions,
            &products,
            &names as &[&str],
            &prices,
            &quantities
        )
        .execute(conn)
        .await?;
        Ok(())
    })
    .await
}

/// Updates lines and total of a pending order.
pub async fn update_lines(
    conn: &mut PgConnection,
    id: Uuid,
    lines: &[NewLine],
    total_minor: i64,
) -> Result<(), sqlx::Error> {
    shopkit::dbop::traced("UPDATE orders", async move {
        replace_lines(&mut *conn, id, lines).await?;
        sqlx::query!("UPDATE orders SET total_minor = $2, updated_at = now() WHERE id = $1", id, total_minor)
            .execute(conn)
            .await?;
        Ok(())
    })
    .await
}

/// Moves a creation that failed to stage `failed` (its reservation still to release).
pub async fn mark_failed(conn: &mut PgConnection, id: Uuid) -> Result<(), sqlx::Error> {
    shopkit::dbop::traced("UPDATE orders", async move {
        sqlx::query!(
            "UPDATE orders SET status = 'failed', updated_at = now() WHERE id = $1 AND status = 'reserving'",
            id
        )
        .execute(conn)
        .await?;
        Ok(())
    })
    .await
}

/// Removes an order and its lines.
pub async fn delete(conn: &mut PgConnection, id: Uuid) -> Result<(), sqlx::Error> {
    shopkit::dbop::traced("DELETE orders", async move {
        sqlx::query!("DELETE FROM orders WHERE id = $1", id).execute(conn).await?;
        Ok(())
    })
    .await
}

/// An order row, locked for the rest of the transaction.
pub async fn lock(conn: &mut PgConnection, id: Uuid) -> Result<Option<OrderRow>, sqlx::Error> {
    shopkit::dbop::traced("SELECT orders", async move {
    sqlx::query_as!(
        OrderRow,
        "SELECT id, user_id, status, currency, total_minor, request_hash, payment_key, payment_id, stock_released, cancel_reason,
                expires_at, created_at, updated_at, trace_id
         FROM orders WHERE id = $1 FOR UPDATE",
        id
    )
    .fetch_optional(conn)
    .await
    })
    .await
}

/// An order row.
pub async fn get(conn: &mut PgConnection, id: Uuid) -> Result<Option<OrderRow>, sqlx::Error> {
    shopkit::dbop::traced("SELECT orders", async move {
    sqlx::query_as!(
        OrderRow,
        "SELECT id, user_id, status, currency, total_minor, request_hash, payment_key, payment_id, stock_released, cancel_reason,
                expires_at, created_at, updated_at, trace_id
         FROM orders WHERE id = $1",
        id
    )
    .fetch_optional(conn)
    .await
    })
    .await
}

/// The lines of an order, in the order they were placed.
pub async fn lines(conn: &mut PgConnection, id: Uuid) -> Result<Vec<LineRow>, sqlx::Error> {
    shopkit::dbop::traced("SELECT order_lines", async move {
        sqlx::query_as!(
        LineRow,
        "SELECT product_id, name, unit_price_minor, quantity FROM order_lines WHERE order_id = $1 ORDER BY position",
        id
    )
    .fetch_all(conn)
    .await
    })
    .await
}

/// A line and the order it belongs to, for loading the lines of many orders at once.
#[derive(Debug, Clone)]
pub struct OwnedLineRow {
    /// The order the line belongs to.
    pub order_id: Uuid,
    /// The line.
    pub line: LineRow,
}

/// The lines of all `ids` in one statement (a page of orders costs one round trip, not one
/// per order), each order's lines in the order they were placed.
pub async fn lines_of(conn: &mut PgConnection, ids: &[Uuid]) -> Result<Vec<OwnedLineRow>, sqlx::Error> {
    shopkit::dbop::traced("SELECT order_lines", async move {
        let rows = sqlx::query!(
            "SELECT order_id, product_id, name, unit_price_minor, quantity FROM order_lines
         WHERE order_id = ANY($1) ORDER BY order_id, position",
            ids
        )
        .fetch_all(conn)
        .await?;
        Ok(rows
            .into_iter()
            .map(|row| OwnedLineRow {
                order_id: row.order_id,
                line: LineRow {
                    product_id: row.product_id,
                    name: row.name,
                    unit_price_minor: row.unit_price_minor,
                    quantity: row.quantity,
                },
            })
            .collect())
    })
    .await
}

/// Records the payment attempt about to be made, so a crash mid-payment can be reconciled.
pub async fn start_payment(conn: &mut PgConnection, id: Uuid, key: &str) -> Result<(), sqlx::Error> {
    shopkit::dbop::traced("UPDATE orders", async move {
        sqlx::query!(
            "UPDATE orders SET payment_key = $2, payment_started_at = now(), updated_at = now() WHERE id = $1",
            id,
            key
        )
        .execute(conn)
        .await?;
        Ok(())
    })
    .await
}

/// The attempt ended without a charge: another attempt may start.
pub async fn clear_payment(conn: &mut PgConnection, id: Uuid) -> Result<(), sqlx::Error> {
    shopkit::dbop::traced("UPDATE orders", async move {
        sqlx::query!(
            "UPDATE orders SET payment_key = NULL, payment_started_at = NULL, updated_at = now()
         WHERE id = $1 AND status = 'pending'",
            id
        )
        .execute(conn)
        .await?;
        Ok(())
    })
    .await
}

/// Records a successful charge, and its `OrderPaid` event.
pub async fn mark_paid(conn: &mut PgConnection, id: Uuid, payment_id: Uuid) -> Result<(), sqlx::Error> {
    shopkit::dbop::traced("UPDATE orders INSERT outbox", async move {
        sqlx::query!(
            "WITH paid AS (
                UPDATE orders SET status = 'paid', payment_id = $2, expires_at = NULL, updated_at = now()
                WHERE id = $1 AND status = 'pending'
                RETURNING id, user_id, status, total_minor, currency, cancel_reason
             )
             INSERT INTO outbox (id, order_id, kind, payload, traceparent)
             SELECT $3, id, 'OrderPaid',
                    json_build_object('order_id', id, 'user_id', user_id, 'status', status, 'total', total_minor,
                                      'currency', currency, 'cancel_reason', cancel_reason)::text,
                    $4
             FROM paid",
            id,
            payment_id,
            Uuid::now_v7(),
            shopkit::telemetry::propagation::current_traceparent()
        )
        .execute(conn)
        .await?;
        Ok(())
    })
    .await
}

/// Sets a new public status (with a reason when cancelling), and writes its event.
pub async fn set_status(
    conn: &mut PgConnection,
    id: Uuid,
    status: OrderStatus,
    cancel_reason: Option<&str>,
) -> Result<(), sqlx::Error> {
    shopkit::dbop::traced("UPDATE orders INSERT outbox", async move {
        sqlx::query!(
            "WITH changed AS (
                UPDATE orders SET status = $2, cancel_reason = $3, updated_at = now() WHERE id = $1
                RETURNING id, user_id, status, total_minor, currency, cancel_reason, payment_id
             )
             INSERT INTO outbox (id, order_id, kind, payload, traceparent)
             SELECT $4, id, $5,
                    json_build_object('order_id', id, 'user_id', user_id, 'status', status, 'total', total_minor,
                                      'currency', currency, 'cancel_reason', cancel_reason,
                                      'refunded', status = 'cancelled' AND payment_id IS NOT NULL)::text,
                    $6
             FROM changed",
            id,
            status.as_str(),
            cancel_reason,
            Uuid::now_v7(),
            event_kind(status),
            shopkit::telemetry::propagation::current_traceparent()
        )
        .execute(conn)
        .await?;
        Ok(())
    })
    .await
}

/// The outbox event a move to `status` is.
fn event_kind(status: OrderStatus) -> &'static str {
    match status {
        OrderStatus::Pending => "OrderPlaced",
        OrderStatus::Paid => "OrderPaid",
        OrderStatus::Cancelled => "OrderCancelled",
        OrderStatus::Shipped => "OrderShipped",
        OrderStatus::Delivered => "OrderDelivered",
    }
}

/// Notes that a cancelled order's reservation was released.
pub async fn mark_stock_released(conn: &mut PgConnection, id: Uuid) -> Result<(), sqlx::Error> {
    shopkit::dbop::traced("UPDATE orders", async move {
        sqlx::query!("UPDATE orders SET stock_released = true, updated_at = now() WHERE id = $1", id)
            .execute(conn)
            .await?;
        Ok(())
    })
    .await
}

/// The orders `query` asks for, newest first, saga stages excluded: one more than a page,
/// so the caller knows whether another page follows.
pub async fn list(conn: &mut PgConnection, query: &ListQuery) -> Result<Vec<OrderRow>, sqlx::Error> {
    shopkit::dbop::traced("SELECT orders", async move {
        let mut sql = sqlx::QueryBuilder::new(format!("SELECT {COLUMNS} FROM orders"));
        push_filters(&mut sql, query);
        if let Some(after) = query.after {
            sql.push(" AND (created_at, id) < (").push_bind(after.created_at).push(", ").push_bind(after.id).push(")");
        }
        sql.push(" ORDER BY created_at DESC, id DESC LIMIT ").push_bind(i64::from(query.limit) + 1);
        if let Some(offset) = query.offset() {
            sql.push(" OFFSET ").push_bind(offset);
        }
        // Built at run time: the filters present decide the statement (and its plan), see the
        // products search for the same choice.
        sql.build_query_as::<OrderRow>().fetch_all(conn).await
    })
    .await
}

/// How many orders the filters of `query` match (its cursor and page aside).
pub async fn count(conn: &mut PgConnection, query: &ListQuery) -> Result<i64, sqlx::Error> {
    shopkit::dbop::traced("SELECT orders", async move {
        let mut sql = sqlx::QueryBuilder::new("SELECT count(*) FROM orders");
        push_filters(&mut sql, query);
        sql.build_query_scalar::<i64>().fetch_one(conn).await
    })
    .await
}

/// ` WHERE ...` of a list: orders people can see (not mid-placement or failed), then the
/// owner, status and order-number filters. The number is compared on the expression the
/// `orders_number` index holds.
fn push_filters(sql: &mut sqlx::QueryBuilder<'_, sqlx::Postgres>, query: &ListQuery) {
    sql.push(" WHERE status NOT IN ('reserving', 'failed')");
    if let Some(user_id) = query.owner {
        sql.push(" AND user_id = ").push_bind(user_id);
    }
    if let Some(status) = query.status {
        sql.push(" AND status = ").push_bind(status.as_str());
    }
    if let Some(number) = &query.number {
        sql.push(" AND right(replace(id::text, '-', ''), 8) = ").push_bind(number.clone());
    }
}

/// Up to `limit` pending orders past their expiry with no payment in flight, locked; rows
/// another replica holds are skipped, so replicas share the work without doing it twice.
pub async fn lock_expired(conn: &mut PgConnection, limit: i64) -> Result<Vec<OrderRow>, sqlx::Error> {
    shopkit::dbop::traced("SELECT orders", async move {
    sqlx::query_as!(
        OrderRow,
        "SELECT id, user_id, status, currency, total_minor, request_hash, payment_key, payment_id, stock_released, cancel_reason,
                expires_at, created_at, updated_at, trace_id
         FROM orders WHERE status = 'pending' AND expires_at < now() AND payment_key IS NULL
         ORDER BY expires_at LIMIT $1 FOR UPDATE SKIP LOCKED",
        limit
    )
    .fetch_all(conn)
    .await
    })
    .await
}

/// Up to `limit` orders left half-done (by a crash or an unreachable dependency) for longer
/// than `stale_secs`, locked and skipping rows other replicas hold.
pub async fn lock_to_recover(
    conn: &mut PgConnection,
    stale_secs: f64,
    limit: i64,
) -> Result<Vec<OrderRow>, sqlx::Error> {
    shopkit::dbop::traced("SELECT orders", async move {
    sqlx::query_as!(
        OrderRow,
        "SELECT id, user_id, status, currency, total_minor, request_hash, payment_key, payment_id, stock_released, cancel_reason,
                expires_at, created_at, updated_at, trace_id
         FROM orders
         WHERE (status IN ('reserving', 'failed') OR (status = 'pending' AND payment_key IS NOT NULL)
                OR (status = 'cancelled' AND NOT stock_released))
           AND updated_at < now() - make_interval(secs => $1)
         ORDER BY updated_at LIMIT $2 FOR UPDATE SKIP LOCKED",
        stale_secs,
        limit
    )
    .fetch_all(conn)
    .await
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(status: &str) -> OrderRow {
        let now = Utc::now();
        OrderRow {
            id: Uuid::from_u128(1),
            user_id: Uuid::from_u128(2),
            status: status.to_owned(),
            currency: Some("EUR".into()),
            total_minor: Some(2500),
            request_hash: String::new(),
            payment_key: None,
            payment_id: None,
            stock_released: false,
            cancel_reason: None,
            expires_at: Some(now),
            created_at: now,
            updated_at: now,
            trace_id: None,
        }
    }

    #[test]
    fn only_public_statuses_become_orders_and_only_pending_ones_expire() {
        let line = LineRow { product_id: Uuid::from_u128(3), name: "Lamp".into(), unit_price_minor: 1250, quantity: 2 };
        assert_eq!(row("reserving").into_order(vec![]), None, "a saga stage is not an order");
        assert_eq!(row("failed").into_order(vec![]), None, "a saga stage is not an order");
        let pending = row("pending").into_order(vec![line.clone()]).expect("pending");
        assert!(pending.expires_at.is_some(), "a pending order shows when it expires");
        assert_eq!(pending.lines.iter().map(OrderLine::total_minor).collect::<Vec<_>>(), [2500]);
        let paid = row("paid").into_order(vec![line]).expect("paid");
        assert_eq!((paid.status, paid.expires_at), (OrderStatus::Paid, None), "a paid order does not expire");
    }
}
