//! HTTP API: wire types and handlers.

mod payments;

pub use payments::PaymentsApi;

use poem_openapi::Tags;
use shopkit::{
    edge::SchemaRule,
    types::{CARD_CVC_RULE, CARD_EXP_MONTH_RULE, CARD_NUMBER_RULE, Currency},
};

use crate::domain::charge::AMOUNT_RULE;

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

/// Where the domain types' rules apply, written into the spec (see [`SchemaRule`]): each rule
/// is the constant the charge's parsing checks. The card's checksum and expiry (relative to
/// today) cannot be said in JSON Schema.
pub fn schema_rules() -> Vec<SchemaRule> {
    use SchemaRule::Field;
    vec![
        Field("ChargeBody", "amount", AMOUNT_RULE.schema()),
        Field("ChargeBody", "currency", Currency::RULE.schema()),
        Field("CardBody", "number", CARD_NUMBER_RULE.schema()),
        Field("CardBody", "exp_month", CARD_EXP_MONTH_RULE.schema()),
        Field("CardBody", "cvc", CARD_CVC_RULE.schema()),
    ]
}
