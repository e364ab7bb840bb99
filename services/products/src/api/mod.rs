//! HTTP API: wire types and handlers. Handlers parse wire input into domain types, call the
//! store, and map results to responses; no SQL and no business rule lives here.

mod products;
mod reservations;

pub use products::ProductsApi;
pub use reservations::ReservationsApi;

use poem_openapi::Tags;
use shopkit::edge::SchemaRule;

use crate::domain::{
    product::{Category, Currency, Description, ImageUrl, PriceMinor, ProductName, Sku, Stock},
    reservation::{LINES_RULE, QUANTITY_RULE},
    search::{LIMIT_RULE, QUERY_RULE, SortOrder},
};

/// Shared state of the handlers.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The products database (the primary): writes, reservations, reads that must be current.
    pub pool: sqlx::PgPool,
    /// The primary's connections for the reservation of an order, lent without sqlx's
    /// return ping (`shopkit::lender`).
    pub primary: std::sync::Arc<shopkit::lender::Lender>,
    /// Catalogue reads (get, search), lent without sqlx's return ping (`shopkit::lender`):
    /// a read replica's pool when one is configured. A replica lags by moments, so an admin's
    /// edit may show a moment later there; stock and reservations never read from it.
    pub reads: std::sync::Arc<shopkit::lender::Lender>,
    /// Run-time fault flags ([`SEARCH_DELAY_FLAG`]; [`UNAVAILABLE_FLAG`] acts in the routes).
    pub faults: shopkit::faults::Faults,
}

/// Fault flag: milliseconds added to every search, to see a slow dependency in a trace.
pub const SEARCH_DELAY_FLAG: &str = "productSearchDelayMs";
/// Fault flag: while on, the API answers 503 (health and metrics still answer).
pub const UNAVAILABLE_FLAG: &str = "productsUnavailable";

/// Operation groups in the docs UI.
#[derive(Tags)]
pub enum ApiTags {
    /// The catalogue: anyone may read and search; admins write.
    Products,
    /// Stock held for orders; for the orders service (service token) and admins.
    Reservations,
}

/// Where the domain types' rules apply, written into the spec (see [`SchemaRule`]): each rule
/// is the constant its type's `parse` checks.
pub fn schema_rules() -> Vec<SchemaRule> {
    use SchemaRule::{Field, Param};
    let mut rules = Vec::new();
    for body in ["NewProductBody", "ProductPatchBody"] {
        rules.extend([
            Field(body, "sku", Sku::RULE.schema()),
            Field(body, "name", ProductName::RULE.schema()),
            Field(body, "description", Description::RULE.schema()),
            Field(body, "price", PriceMinor::FOR_SALE.schema()),
            Field(body, "currency", Currency::RULE.schema()),
            Field(body, "stock", Stock::RULE.schema()),
            Field(body, "category", Category::RULE.schema()),
            Field(body, "image_url", ImageUrl::RULE.schema()),
        ]);
    }
    rules.extend([
        Field("ReservationBody", "lines", LINES_RULE.items_schema()),
        Field("ReservationLineBody", "quantity", QUANTITY_RULE.schema()),
        Param("searchProducts", "q", QUERY_RULE.schema()),
        Param("searchProducts", "category", Category::RULE.schema()),
        Param("searchProducts", "min_price", PriceMinor::RULE.schema()),
        Param("searchProducts", "max_price", PriceMinor::RULE.schema()),
        Param("searchProducts", "sort", SortOrder::schema()),
        Param("searchProducts", "limit", LIMIT_RULE.schema()),
    ]);
    rules
}
