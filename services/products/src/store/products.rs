//! Products: create, read, partial update, soft delete, search.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, Postgres, QueryBuilder};
use uuid::Uuid;

use super::{SKU_UNIQUE_INDEX, relevance};
use crate::{
    domain::{
        product::{NewProduct, ProductChanges},
        search::{Cursor, SearchQuery, SortOrder},
    },
    error::ProductsError,
};

/// A product as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ProductRow {
    /// Product id (UUIDv7, so ids sort roughly by creation).
    pub id: Uuid,
    pub sku: String,
    pub name: String,
    pub description: String,
    /// Price in minor units.
    pub price_minor: i64,
    /// ISO 4217 code.
    pub currency: String,
    /// Units available for sale.
    pub stock: i32,
    /// Category slug.
    pub category: String,
    /// Picture URL, if any.
    pub image_url: Option<String>,
    /// When it was added.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// A row of a search: the product and, in a search sorted by relevance, its relevance tier
/// (store::relevance), which the next page's cursor needs. Searches are built at run time
/// (`QueryBuilder`), so this is read by name with `FromRow` rather than checked at compile time.
#[derive(Debug, sqlx::FromRow)]
struct SearchRow {
    #[sqlx(flatten)]
    product: ProductRow,
    #[sqlx(default)]
    tier: Option<i32>,
}

/// The product columns, for the search statements built at run time; the static statements
/// (`query_as!`) spell them out so the compiler checks them against the schema.
pub(super) const COLUMNS: &str =
    "id, sku, name, description, price_minor, currency, stock, category, image_url, created_at, updated_at";

/// Maps a unique violation on the SKU index to 409, and the price check (a product priced 0
/// before that rule, updated without a new price) to 422; anything else stays a database error.
fn map_sku_conflict(err: sqlx::Error, sku: &str) -> ProductsError {
    match &err {
        sqlx::Error::Database(db) if db.constraint() == Some(SKU_UNIQUE_INDEX) => {
            ProductsError::DuplicateSku(sku.to_owned())
        }
        sqlx::Error::Database(db) if db.constraint() == Some("products_price_for_sale") => {
            let mut errors = shopkit::FieldErrors::default();
            errors.add("price", "must be at least 1 minor unit: give the product a price");
            ProductsError::Invalid(errors)
        }
        _ => ProductsError::Database(err),
    }
}

/// Adds a product.
pub async fn insert(conn: &mut PgConnection, product: &NewProduct) -> Result<ProductRow, ProductsError> {
    shopkit::dbop::traced("INSERT products", async move {
    sqlx::query_as!(
        ProductRow,
        "INSERT INTO products (id, sku, name, description, price_minor, currency, stock, category, image_url)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         RETURNING id, sku, name, description, price_minor, currency, stock, category, image_url, created_at, updated_at",
        Uuid::now_v7(),
        product.sku.as_str(),
        product.name.as_str(),
        product.description.as_str(),
        product.price.minor(),
        product.currency.as_str(),
        product.stock.units(),
        product.category.as_str(),
        product.image_url.as_ref().map(|u| u.as_str())
    )
    .fetch_one(conn)
    .await
    .map_err(|e| map_sku_conflict(e, product.sku.as_str()))
    })
    .await
}

/// A live product.
pub async fn get(conn: &mut PgConnection, id: Uuid) -> Result<ProductRow, ProductsError> {
    shopkit::dbop::traced("SELECT products", async move {
        sqlx::query_as!(
        ProductRow,
        "SELECT id, sku, name, description, price_minor, currency, stock, category, image_url, created_at, updated_at
         FROM products WHERE id = $1 AND deleted_at IS NULL",
        id
    )
        .fetch_optional(conn)
        .await?
        .ok_or(ProductsError::ProductNotFound(id))
    })
    .await
}

/// Applies the given changes to a live product; absent fields keep their value.
pub async fn update(conn: &mut PgConnection, id: Uuid, changes: &ProductChanges) -> Result<ProductRow, ProductsError> {
    shopkit::dbop::traced("UPDATE products", async move {
    let sku = changes.sku.as_ref().map(|s| s.as_str().to_owned());
    sqlx::query_as!(
        ProductRow,
        "UPDATE products SET
            sku = coalesce($2, sku),
            name = coalesce($3, name),
            description = coalesce($4, description),
            price_minor = coalesce($5, price_minor),
            currency = coalesce($6, currency),
            stock = coalesce($7, stock),
            category = coalesce($8, category),
            image_url = CASE WHEN $9 THEN $10 ELSE image_url END,
            updated_at = now()
         WHERE id = $1 AND deleted_at IS NULL
         RETURNING id, sku, name, description, price_minor, currency, stock, category, image_url, created_at, updated_at",
        id,
        sku.as_deref(),
        changes.name.as_ref().map(|n| n.as_str()),
        changes.description.as_ref().map(|d| d.as_str()),
        changes.price.map(|p| p.minor()),
        changes.currency.as_ref().map(|c| c.as_str()),
        changes.stock.map(|s| s.units()),
        changes.category.as_ref().map(|c| c.as_str()),
        changes.image_url.is_some(),
        changes.image_url.as_ref().and_then(|u| u.as_ref().map(|u| u.as_str()))
    )
    .fetch_optional(conn)
    .await
    .map_err(|e| map_sku_conflict(e, sku.as_deref().unwrap_or_default()))?
    .ok_or(ProductsError::ProductNotFound(id))
    })
    .await
}

/// Soft-deletes a live product: it disappears from reads and search, but reservations and
/// other services' snapshots that reference it stay valid.
pub async fn soft_delete(conn: &mut PgConnection, id: Uuid) -> Result<(), ProductsError> {
    shopkit::dbop::traced("UPDATE products", async move {
        let result = sqlx::query!(
            "UPDATE products SET deleted_at = now(), updated_at = now() WHERE id = $1 AND deleted_at IS NULL",
            id
        )
        .execute(conn)
        .await?;
        if result.rows_affected() == 0 { Err(ProductsError::ProductNotFound(id)) } else { Ok(()) }
    })
    .await
}

/// One page of search results and the cursor of the next page, if any.
#[derive(Debug)]
pub struct SearchPage {
    /// The products of this page.
    pub items: Vec<ProductRow>,
    /// Where the next page starts; `None` on the last page.
    pub next: Option<Cursor>,
}

/// Builds the search statement (behind `prefix`, e.g. `EXPLAIN `). It stays a `QueryBuilder`,
/// not a compile-time checked `query_as!`: which filters, which keyset condition and which order
/// appear depends on the request, and one static statement with every filter optional would
/// share one plan across them all. Filters are bound parameters; only fixed SQL fragments
/// chosen by the (validated) sort order are pushed as text, so each combination of filters
/// gets its own plan and can use the index that fits it.
fn search_statement_with_prefix(prefix: &str, query: &SearchQuery) -> QueryBuilder<'static, Postgres> {
    let mut sql = QueryBuilder::new(prefix);
    let Some(text) = &query.text else {
        sql.push(format!("SELECT {COLUMNS} FROM products WHERE deleted_at IS NULL"));
        push_filters(&mut sql, query);
        push_order(&mut sql, query);
        return sql;
    };
    relevance::push_terms(&mut sql, text);
    if query.sort == SortOrder::Relevance {
        relevance::push_ranked(&mut sql, query);
        return sql;
    }
    // Another order over the same matches as a relevance search: any tier.
    sql.push(format!("SELECT {COLUMNS} FROM products WHERE deleted_at IS NULL AND {}", relevance::any_tier()));
    push_filters(&mut sql, query);
    push_order(&mut sql, query);
    sql
}

/// Category, price range and stock filters (` AND ...`).
pub(super) fn push_filters(sql: &mut QueryBuilder<'static, Postgres>, query: &SearchQuery) {
    if let Some(category) = &query.category {
        sql.push(" AND category = ").push_bind(category.as_str().to_owned());
    }
    if let Some(min) = query.min_price {
        sql.push(" AND price_minor >= ").push_bind(min.minor());
    }
    if let Some(max) = query.max_price {
        sql.push(" AND price_minor <= ").push_bind(max.minor());
    }
    if query.in_stock {
        sql.push(" AND stock > 0");
    }
}

/// The keyset condition, order and page size of every order but relevance.
fn push_order(sql: &mut QueryBuilder<'static, Postgres>, query: &SearchQuery) {
    match &query.after {
        None | Some(Cursor::Relevance { .. }) => {}
        Some(Cursor::Newest { created_at, id }) => {
            sql.push(" AND (created_at, id) < (").push_bind(*created_at).push(", ").push_bind(*id).push(")");
        }
        Some(Cursor::Price { price, id, desc }) => {
            sql.push(if *desc { " AND (price_minor, id) < (" } else { " AND (price_minor, id) > (" });
            sql.push_bind(*price).push(", ").push_bind(*id).push(")");
        }
        Some(Cursor::Name { name, id }) => {
            sql.push(" AND (name, id) > (").push_bind(name.clone()).push(", ").push_bind(*id).push(")");
        }
    }
    sql.push(match query.sort {
        SortOrder::Relevance | SortOrder::Newest => " ORDER BY created_at DESC, id DESC",
        SortOrder::PriceAsc => " ORDER BY price_minor ASC, id ASC",
        SortOrder::PriceDesc => " ORDER BY price_minor DESC, id DESC",
        SortOrder::Name => " ORDER BY name ASC, id ASC",
    });
    // One row more than the page tells whether there is a next page.
    sql.push(" LIMIT ").push_bind(i64::from(query.limit) + 1);
}

/// Runs a search.
pub async fn search(conn: &mut PgConnection, query: &SearchQuery) -> Result<SearchPage, ProductsError> {
    shopkit::dbop::traced("SELECT products", async move {
        let statement = || search_statement_with_prefix("", query);
        let mut rows = if query.sort == SortOrder::Relevance {
            let mut tx = sqlx::Connection::begin(conn).await?;
            steer_ranked_search(&mut tx).await?;
            let rows = statement().build_query_as::<SearchRow>().fetch_all(&mut *tx).await?;
            tx.commit().await?;
            rows
        } else {
            statement().build_query_as::<SearchRow>().fetch_all(conn).await?
        };
        let limit = query.limit as usize;
        let next = if rows.len() > limit {
            rows.truncate(limit);
            rows.last().map(|last| cursor_after(last, query.sort))
        } else {
            None
        };
        Ok(SearchPage { items: rows.into_iter().map(|row| row.product).collect(), next })
    })
    .await
}

fn cursor_after(row: &SearchRow, sort: SortOrder) -> Cursor {
    let (tier, row) = (row.tier, &row.product);
    match sort {
        SortOrder::Relevance => {
            Cursor::Relevance { tier: tier.unwrap_or_default(), created_at: row.created_at, id: row.id }
        }
        SortOrder::Newest => Cursor::Newest { created_at: row.created_at, id: row.id },
        SortOrder::PriceAsc => Cursor::Price { price: row.price_minor, id: row.id, desc: false },
        SortOrder::PriceDesc => Cursor::Price { price: row.price_minor, id: row.id, desc: true },
        SortOrder::Name => Cursor::Name { name: row.name.clone(), id: row.id },
    }
}

/// The plan PostgreSQL picks for a search (`EXPLAIN`, text format), used by the tests and
/// the benchmark to show the common searches use indexes rather than sequential scans.
pub async fn explain_search(conn: &mut PgConnection, query: &SearchQuery) -> Result<String, sqlx::Error> {
    let mut tx = sqlx::Connection::begin(conn).await?;
    if query.sort == SortOrder::Relevance {
        steer_ranked_search(&mut tx).await?;
    }
    let lines: Vec<String> =
        search_statement_with_prefix("EXPLAIN ", query).build_query_scalar().fetch_all(&mut *tx).await?;
    tx.commit().await?;
    Ok(lines.join("\n"))
}

/// The relevance statement runs on a generic plan: see `store::relevance` for why. Parallel
/// workers stay off so the tiers, appended best first, are read in that order and the page
/// stops at the first tiers that fill it. For this transaction only.
async fn steer_ranked_search(conn: &mut PgConnection) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "SELECT set_config('plan_cache_mode', 'force_generic_plan', true) AS plan_cache_mode,
                set_config('max_parallel_workers_per_gather', '0', true) AS max_parallel_workers_per_gather"
    )
    .fetch_one(conn)
    .await?;
    Ok(())
}
