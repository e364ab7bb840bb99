//! HTTP API: wire types and handlers. Handlers parse wire input into domain types, call the
//! store, and map results to responses; no SQL and no business rule lives here.

mod products;
mod reservations;

pub use products::ProductsApi;
pub use reservations::ReservationsApi;

use poem_openapi::Tags;
use serde_json::json;
use shopkit::{
    edge::{NON_BLANK_TEXT_PATTERN, SchemaRule},
    types::Currency,
};

use crate::domain::{
    product::MAX_PRICE_MINOR,
    reservation::{MAX_LINE_QUANTITY, MAX_LINES},
    search::MAX_LIMIT,
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

/// The shape `ImageUrl::parse` accepts, as a JSON Schema pattern (blank means "no picture").
const IMAGE_URL_PATTERN: &str = r#"^(?:[ \t\n\r]*|https?://[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?(?::[0-9]{1,5})?(?:[/?#][^\s<>"\u0000-\u001F\u007F-\u009F]*)?|/[^/\s<>"\u0000-\u001F\u007F-\u009F][^\s<>"\u0000-\u001F\u007F-\u009F]*)$"#;

/// What the domain types check, written into the spec (see [`SchemaRule`]).
pub fn schema_rules() -> Vec<SchemaRule> {
    use SchemaRule::{Field, Param};
    let sku = json!({"pattern": "^[A-Za-z0-9][A-Za-z0-9-]{1,63}$"});
    let name = json!({"minLength": 1, "maxLength": 200, "pattern": NON_BLANK_TEXT_PATTERN});
    let description = json!({"maxLength": 5000});
    let price = json!({"minimum": 1, "maximum": MAX_PRICE_MINOR});
    let currency = json!({"pattern": Currency::PATTERN});
    let stock = json!({"minimum": 0, "maximum": 1_000_000_000});
    let category = json!({"pattern": "^[A-Za-z0-9][A-Za-z0-9-]{0,63}$"});
    // `ImageUrl::parse`: blank (no picture), an http(s) URL, or a local path not starting "//";
    // no white space, quotes, angle brackets or control characters inside.
    let image_url = json!({"maxLength": 2000, "pattern": IMAGE_URL_PATTERN});
    let mut rules = Vec::new();
    for body in ["NewProductBody", "ProductPatchBody"] {
        rules.extend([
            Field(body, "sku", sku.clone()),
            Field(body, "name", name.clone()),
            Field(body, "description", description.clone()),
            Field(body, "price", price.clone()),
            Field(body, "currency", currency.clone()),
            Field(body, "stock", stock.clone()),
            Field(body, "category", category.clone()),
            Field(body, "image_url", image_url.clone()),
        ]);
    }
    let filter_price = json!({"minimum": 0, "maximum": MAX_PRICE_MINOR});
    rules.extend([
        Field("ReservationBody", "lines", json!({"maxItems": MAX_LINES})),
        Field("ReservationLineBody", "quantity", json!({"minimum": 1, "maximum": MAX_LINE_QUANTITY})),
        Param("searchProducts", "q", json!({"maxLength": 200})),
        Param("searchProducts", "category", category),
        Param("searchProducts", "min_price", filter_price.clone()),
        Param("searchProducts", "max_price", filter_price),
        Param("searchProducts", "sort", json!({"enum": ["relevance", "newest", "price_asc", "price_desc", "name"]})),
        Param("searchProducts", "limit", json!({"minimum": 1, "maximum": MAX_LIMIT})),
    ]);
    rules
}
