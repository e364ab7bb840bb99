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
    /// Run-time fault flags, which override the simulation while they are on.
    pub faults: shopkit::faults::Faults,
}

/// Operation groups in the docs UI.
#[derive(Tags)]
pub enum ApiTags {
    /// Card charges and refunds (service or admin token).
    Payments,
}
