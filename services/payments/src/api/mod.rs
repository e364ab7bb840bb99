//! HTTP API: wire types and handlers.

mod payments;

pub use payments::PaymentsApi;

use poem_openapi::Tags;
use serde_json::json;
use shopkit::{edge::SchemaRule, types::Currency};

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

/// What the domain types check, written into the spec (see [`SchemaRule`]). The card's
/// checksum and expiry (relative to today) cannot be said in JSON Schema.
pub fn schema_rules() -> Vec<SchemaRule> {
    use SchemaRule::Field;
    vec![
        Field("ChargeBody", "amount", json!({"minimum": 1, "maximum": 100_000_000_000_i64})),
        Field("ChargeBody", "currency", json!({"pattern": Currency::PATTERN})),
        Field("CardBody", "number", json!({"pattern": "^[0-9][0-9 -]{10,30}[0-9]$"})),
        Field("CardBody", "exp_month", json!({"minimum": 1, "maximum": 12})),
        Field("CardBody", "cvc", json!({"pattern": "^[0-9]{3,4}$"})),
    ]
}
