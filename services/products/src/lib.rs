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
//! Here: the spec ([`openapi`]), the endpoint ([`app`]), and the process ([`serve_from_env`]),
//! which gives [`shopkit::service`] the name, migrations and endpoint to start and stop.
//! `main.rs` prints the spec or calls [`serve_from_env`]; tests call [`app`] directly.

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
    server::{ServiceParts, service_routes_with_outage},
    service::{Opened, Service},
};
use sqlx::migrate::Migrator;

/// The OpenAPI description of the service: served at `/openapi.json` and printed by
/// `products openapi`, which needs no database.
pub fn openapi() -> OpenApiService<(api::ProductsApi, api::ReservationsApi), ()> {
    OpenApiService::new((api::ProductsApi, api::ReservationsApi), "microshop products", env!("CARGO_PKG_VERSION"))
        .description("The catalogue (search is public; writes need an admin token) and stock reservations for orders (service or admin token). Prices are integer minor units.")
}

/// The service's complete HTTP endpoint over `database`.
pub fn app(database: Database, verifier: TokenVerifier) -> impl Endpoint + 'static {
    app_with_faults(database, verifier, Faults::none())
}

/// [`app`] with run-time fault flags: slow search, and the whole API answering 503.
pub fn app_with_faults(database: Database, verifier: TokenVerifier, faults: Faults) -> impl Endpoint + 'static {
    let outage = Outage::new(faults.clone(), api::UNAVAILABLE_FLAG);
    let state = api::AppState {
        pool: database.pool().clone(),
        primary: database.lender().clone(),
        reads: database.read_lender().clone(),
        faults,
    };
    service_routes_with_outage(
        openapi(),
        ServiceParts { state, database, verifier, schema_rules: api::schema_rules() },
        outage,
    )
}

/// The embedded migrations (`migrations/*.sql`).
pub static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// Builds the endpoint over the opened database, checking tokens with `JWT_PUBLIC_KEY` and
/// following the fault flags in `FAULTS_FILE`.
fn start(config: config::Config, opened: Opened) -> anyhow::Result<impl Endpoint + 'static> {
    shopkit::metrics::business::export_at_zero(&[&shopkit::metrics::business::STOCK_OUTS]);
    let verifier = TokenVerifier::from_config(&config.jwt_public_key, &config.common)?;
    let faults = Faults::load(config.faults_file.as_deref())?;
    Ok(app_with_faults(opened.database, verifier, faults))
}

/// The `products` process: reads the config, then runs until SIGINT/SIGTERM (see
/// [`shopkit::service`]).
pub async fn serve_from_env() -> anyhow::Result<()> {
    shopkit::service::serve_from_env(Service { name: "products", migrator: &MIGRATOR, start }).await
}
