//! The microshop payments service: a simulated card processor with the behaviour of a real
//! one (validation, declines with codes, idempotent charges, refunds), storing only a card's
//! brand and last four digits.
//!
//! # Layout
//! - [`api`]: HTTP handlers and wire types.
//! - [`domain`]: card validation (Luhn, expiry), the network's decision, the payment state machine.
//! - [`store`]: SQL for payments.
//! - [`simulation`]: configurable latency and failures, request fingerprints.
//! - [`error`], [`config`].

pub mod api;
pub mod config;
pub mod domain;
pub mod error;
pub mod simulation;
pub mod store;

use poem::Endpoint;
use poem_openapi::OpenApiService;
use shopkit::{
    auth::TokenVerifier,
    db::Database,
    faults::Faults,
    server::{ServiceParts, service_routes},
    service::{Opened, Service},
};
use sqlx::migrate::Migrator;

/// The OpenAPI description of the service: served at `/openapi.json` and printed by
/// `payments openapi`, which needs no database.
pub fn openapi() -> OpenApiService<api::PaymentsApi, ()> {
    OpenApiService::new(api::PaymentsApi, "microshop payments", env!("CARGO_PKG_VERSION"))
        .description("A simulated card processor. Charges need a service or admin token and an Idempotency-Key. Amounts are integer minor units.")
}

/// The service's complete HTTP endpoint.
pub fn app(database: Database, verifier: TokenVerifier, simulation: config::Simulation) -> impl Endpoint + 'static {
    app_with_faults(database, verifier, simulation, Faults::none())
}

/// [`app`] with run-time fault flags that override the simulation's latency and failure rate.
pub fn app_with_faults(
    database: Database,
    verifier: TokenVerifier,
    simulation: config::Simulation,
    faults: Faults,
) -> impl Endpoint + 'static {
    let state = api::AppState { pool: database.pool().clone(), simulation, faults };
    service_routes(openapi(), ServiceParts { state, database, verifier, schema_rules: api::schema_rules() })
}

/// The embedded migrations.
pub static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// Builds the endpoint over the opened database, checking tokens with `JWT_PUBLIC_KEY`,
/// simulating the processor as configured, and following the fault flags in `FAULTS_FILE`.
fn start(config: config::Config, opened: Opened) -> anyhow::Result<impl Endpoint + 'static> {
    shopkit::metrics::business::export_at_zero(&[&shopkit::metrics::business::PAYMENTS_DECLINED]);
    let verifier = TokenVerifier::from_config(&config.jwt_public_key, &config.common)?;
    let faults = Faults::load(config.faults_file.as_deref())?;
    Ok(app_with_faults(opened.database, verifier, config.simulation, faults))
}

/// The `payments` process: reads the config, then runs until SIGINT/SIGTERM (see
/// [`shopkit::service`]).
pub async fn serve_from_env() -> anyhow::Result<()> {
    shopkit::service::serve_from_env(Service { name: "payments", migrator: &MIGRATOR, start }).await
}
