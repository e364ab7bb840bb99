//! The microshop products service: the catalogue, its search, and stock reservations for
//! orders.
//!
//! # Layout
//! - [`api`]: HTTP handlers and wire types (poem-openapi).
//! - [`domain`]: validated catalogue types and rules, no I/O.
//! - [`store`]: SQL against the service's own database.
//! - [`error`]: the service's error enum and its HTTP statuses.
//! - [`config`]: settings from the environment.
//!
//! `main.rs` only parses the config and calls [`run`]; tests call [`app`] directly.

pub mod api;
pub mod config;
pub mod domain;
pub mod error;
pub mod store;

use poem::Endpoint;
use poem_openapi::OpenApiService;
use shopkit::{
    auth::TokenVerifier,
    db::Database,
    faults::{Faults, Outage},
    server::{ServiceParts, openapi_service, service_routes_with_outage},
};

/// The service name, used in logs, the spec and telemetry.
pub const SERVICE_NAME: &str = "products";

/// The embedded migrations (`migrations/*.sql`).
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// The OpenAPI description of the service.
pub fn openapi() -> OpenApiService<(api::ProductsApi, api::ReservationsApi), ()> {
    openapi_service(
        (api::ProductsApi, api::ReservationsApi),
        "microshop products",
        env!("CARGO_PKG_VERSION"),
        "The catalogue (search is public; writes need an admin token) and stock reservations for orders (service or admin token). Prices are integer minor units.",
    )
}

/// The service's complete HTTP endpoint over `database`.
pub fn app(database: Database, verifier: TokenVerifier) -> impl Endpoint + 'static {
    app_with_faults(database, verifier, Faults::none())
}

/// [`app`] with run-time fault flags: slow search, and the whole API answering 503.
pub fn app_with_faults(database: Database, verifier: TokenVerifier, faults: Faults) -> impl Endpoint + 'static {
    let outage = Outage::new(faults.clone(), api::UNAVAILABLE_FLAG);
    let state = api::AppState { pool: database.pool().clone(), reads: database.read_pool().clone(), faults };
    service_routes_with_outage(
        openapi(),
        ServiceParts { state, database, verifier, schema_rules: api::schema_rules() },
        outage,
    )
}

/// Runs the service until `shutdown` resolves: starts migrations in the background (the
/// service answers not-ready until they are done) and serves on `listener`.
pub async fn run(
    config: config::Config,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()>,
) -> anyhow::Result<()> {
    let database = Database::open(&config.common, &MIGRATOR)?;
    let verifier = TokenVerifier::from_config(&config.jwt_public_key, &config.common)?;
    let faults = Faults::load(config.faults_file.as_deref())?;
    shopkit::server::serve(listener, app_with_faults(database.clone(), verifier, faults), shutdown).await?;
    database.close().await;
    Ok(())
}

/// The `products` process: reads the config, then runs until SIGINT/SIGTERM (see
/// [`shopkit::server::run_process`]).
pub async fn serve_from_env() -> anyhow::Result<()> {
    let config = config::Config::from_env()?;
    let common = config.common.clone();
    shopkit::server::run_process(SERVICE_NAME, &common, |listener, shutdown| run(config, listener, shutdown)).await
}
