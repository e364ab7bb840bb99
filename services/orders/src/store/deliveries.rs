//! Delivery rates, countries, and the delivery each order recorded.

use std::collections::HashMap;

use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::delivery::{Address, Delivery, Method, Quote};

/// What `method` to `country` costs an order of `items_minor` in `currency`; `None` when the
/// shop does not ship there that way in that currency.
pub async fn quote(
    conn: &mut PgConnection,
    country: &str,
    method: Method,
    currency: &str,
    items_minor: i64,
) -> Result<Option<Quote>, sqlx::Error> {
    shopkit::dbop::traced("SELECT shipping_rates", async move {
        let row = sqlx::query!(
            r#"SELECT CASE WHEN r.free_from_minor IS NOT NULL AND $4 >= r.free_from_minor THEN 0 ELSE r.price_minor END AS "shipping!",
                      c.vat_basis_points, r.days_min, r.days_max
               FROM shipping_rates r JOIN delivery_countries c USING (country)
               WHERE r.country = $1 AND r.method = $2 AND r.currency = $3"#,
            country,
            method.as_str(),
            currency,
            items_minor
        )
        .fetch_optional(conn)
        .await?;
        Ok(row.map(|r| Quote {
            shipping_minor: r.shipping,
            vat_basis_points: r.vat_basis_points,
            days_min: r.days_min,
            days_max: r.days_max,
        }))
    })
    .await
}

/// One way to ship to one country, as the options list shows it.
#[derive(Debug, Clone)]
pub struct OptionRow {
    pub country: String,
    pub country_name: String,
    pub vat_basis_points: i32,
    pub method: String,
    pub price_minor: i64,
    pub free_from_minor: Option<i64>,
    pub days_min: i32,
    pub days_max: i32,
}

/// Every country and method the shop ships to in `currency`, by country name then price.
pub async fn options(conn: &mut PgConnection, currency: &str) -> Result<Vec<OptionRow>, sqlx::Error> {
    shopkit::dbop::traced("SELECT shipping_rates", async move {
        sqlx::query_as!(
            OptionRow,
            r#"SELECT c.country AS "country!", c.name AS country_name, c.vat_basis_points, r.method, r.price_minor,
                      r.free_from_minor, r.days_min, r.days_max
               FROM shipping_rates r JOIN delivery_countries c USING (country)
               WHERE r.currency = $1 ORDER BY c.name, r.price_minor"#,
            currency
        )
        .fetch_all(conn)
        .await
    })
    .await
}

/// Records the delivery of order `order_id` (placed in the same saga step as its lines).
pub async fn insert(conn: &mut PgConnection, order_id: Uuid, delivery: &Delivery) -> Result<(), sqlx::Error> {
    shopkit::dbop::traced("INSERT order_deliveries", async move {
        let a = &delivery.address;
        let q = &delivery.quote;
        sqlx::query!(
            "INSERT INTO order_deliveries (order_id, recipient, line1, line2, postal_code, city, country, method,
                                           shipping_minor, vat_basis_points, days_min, days_max)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            order_id,
            a.recipient,
            a.line1,
            a.line2,
            a.postal_code,
            a.city,
            a.country,
            delivery.method.as_str(),
            q.shipping_minor,
            q.vat_basis_points,
            q.days_min,
            q.days_max
        )
        .execute(conn)
        .await
        .map(|_| ())
    })
    .await
}

/// The deliveries of `order_ids`, by order.
pub async fn of(conn: &mut PgConnection, order_ids: &[Uuid]) -> Result<HashMap<Uuid, Delivery>, sqlx::Error> {
    shopkit::dbop::traced("SELECT order_deliveries", async move {
        let rows = sqlx::query!(
            r#"SELECT order_id, recipient, line1, line2, postal_code, city, country AS "country!", method,
                      shipping_minor, vat_basis_points, days_min, days_max
               FROM order_deliveries WHERE order_id = ANY($1)"#,
            order_ids
        )
        .fetch_all(conn)
        .await?;
        Ok(rows
            .into_iter()
            .filter_map(|r| {
                let method = Method::parse(&r.method)?;
                let address = Address {
                    recipient: r.recipient,
                    line1: r.line1,
                    line2: r.line2,
                    postal_code: r.postal_code,
                    city: r.city,
                    country: r.country,
                };
                let quote = Quote {
                    shipping_minor: r.shipping_minor,
                    vat_basis_points: r.vat_basis_points,
                    days_min: r.days_min,
                    days_max: r.days_max,
                };
                Some((r.order_id, Delivery { address, method, quote }))
            })
            .collect())
    })
    .await
}
