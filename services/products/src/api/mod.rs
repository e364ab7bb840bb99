//! HTTP API: wire types and handlers. Handlers parse wire input into domain types, call the
//! store, and map results to responses; no SQL and no business rule lives here.

mod products;
mod reservations;

pub use products::ProductsApi;
pub use reservations::ReservationsApi;

use poem_openapi::Tags;

/// Shared state of the handlers.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The products database.
    pub pool: sqlx::PgPool,
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
