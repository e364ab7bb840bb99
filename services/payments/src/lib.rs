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
    server::{ServiceParts, openapi_service, service_routes},
};

/// The service name.
pub const SERVICE_NAME: &str = "payments";

/// The embedded migrations.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// The OpenAPI description of the service.
pub fn openapi() -> OpenApiService<api::PaymentsApi, ()> {
    openapi_service(
        api::PaymentsApi,
        "microshop payments",
        env!("CARGO_PKG_VERSION"),
        "A simulated card processor. Charges need a service or admin token and an Idempotency-Key. Amounts are integer minor units.",
    )
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

/// Runs the service until `shutdown` resolves.
pub async fn run(
    config: config::Config,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()>,
) -> anyhow::Result<()> {
    let database = Database::open(&config.common, &MIGRATOR)?;
    let verifier = TokenVerifier::from_config(&config.jwt_public_key, &config.common)?;
    let faults = Faults::load(config.faults_file.as_deref())?;
    let app = app_with_faults(database.clone(), verifier, config.simulation, faults);
    shopkit::server::serve(listener, app, shutdown).await?;
    database.close().await;
    Ok(())
}

/// The `payments` process: reads the config, then runs until SIGINT/SIGTERM (see
/// [`shopkit::server::run_process`]).
pub async fn serve_from_env() -> anyhow::Result<()> {
    let config = config::Config::from_env()?;
    let common = config.common.clone();
    shopkit::server::run_process(SERVICE_NAME, &common, |listener, shutdown| run(config, listener, shutdown)).await
}
