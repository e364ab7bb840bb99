//! HTTP API: wire types and handlers.

mod payments;

pub use payments::PaymentsApi;

use poem_openapi::Tags;

use crate::config::Simulation;

/// Shared state of the handlers.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The payments database.
    pub pool: sqlx::PgPool,
    /// How the simulated processor behaves.
    pub simulation: Simulation,
}

/// Operation groups in the docs UI.
#[derive(Tags)]
pub enum ApiTags {
    /// Card charges and refunds (service or admin token).
    Payments,
}
