//! HTTP API: wire types and handlers over the sagas.

mod orders;
mod wire;

pub use orders::OrdersApi;

use poem_openapi::Tags;

/// Operation groups in the docs UI.
#[derive(Tags)]
pub enum ApiTags {
    /// Placing, paying, changing and cancelling orders.
    Orders,
}
