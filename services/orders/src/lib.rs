//! The microshop orders service: places orders against the users, products and payments
//! services, as sagas that can always be finished or undone.
//!
//! # Layout
//! - [`api`]: HTTP handlers and wire types.
//! - [`saga`]: the flows (place, read, list, pay, edit, ship, cancel, delete) and the sweeper that
//!   expires unpaid orders and recovers interrupted ones.
//! - [`clients`]: typed calls to the other services (over `shopkit::client`); their
//!   refusals come back as types (a stock refusal, refused card fields), not HTTP statuses.
//! - [`domain`]: the order, its state machine, item and listing rules, and the one access
//!   policy (who may place, see, list, ship); no I/O.
//! - [`store`]: SQL for orders and lines.
//! - [`error`], [`config`].

pub mod api;
pub mod clients;
pub mod config;
pub mod domain;
pub mod error;
pub mod saga;
pub mod store;

use std::sync::Arc;

use poem::Endpoint;
use poem_openapi::OpenApiService;
use shopkit::{
    auth::TokenVerifier,
    client::TokenSource,
    db::Database,
    server::{ServiceParts, openapi_service, service_routes},
};

/// The service name.
pub const SERVICE_NAME: &str = "orders";

/// The embedded migrations.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// The OpenAPI description of the service.
pub fn openapi() -> OpenApiService<api::OrdersApi, ()> {
    openapi_service(
        api::OrdersApi,
        "microshop orders",
        env!("CARGO_PKG_VERSION"),
        "Orders: placed against real stock reservations, paid by card through payments, cancellable with refunds. Amounts are integer minor units.",
    )
}

/// The flows over `database`, calling the dependencies in `config`.
pub fn orders(database: &Database, config: &config::Config) -> saga::Orders {
    // The users service issues service tokens (client credentials) at `/auth/token`.
    let token_url = format!("{}/auth/token", config.urls.users.trim_end_matches('/'));
    let tokens = Arc::new(TokenSource::at("users", token_url, config.client_id.clone(), config.client_secret.clone()));
    saga::Orders {
        pool: database.pool().clone(),
        deps: clients::Dependencies::new(&config.urls, tokens),
        order_ttl: config.order_ttl,
    }
}

/// The service's complete HTTP endpoint.
pub fn app(database: Database, verifier: TokenVerifier, orders: saga::Orders) -> impl Endpoint + 'static {
    service_routes(openapi(), ServiceParts { state: orders, database, verifier, schema_rules: api::schema_rules() })
}

/// Runs the service and its sweeper until `shutdown` resolves.
pub async fn run(
    config: config::Config,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()>,
) -> anyhow::Result<()> {
    let database = Database::open(&config.common, &MIGRATOR)?;
    let verifier = TokenVerifier::from_config(&config.jwt_public_key, &config.common)?;
    let flows = orders(&database, &config);
    let (stop_sweeper, stopped) = tokio::sync::watch::channel(false);
    let sweeper = {
        let flows = flows.clone();
        let database = database.clone();
        let (interval, stale) = (config.sweep_interval, config.recovery_after);
        tokio::spawn(async move {
            database.wait_until_migrated().await;
            flows.sweep_forever(interval, stale, stopped).await;
        })
    };
    shopkit::server::serve(listener, app(database.clone(), verifier, flows), shutdown).await?;
    let _ = stop_sweeper.send(true);
    let _ = sweeper.await;
    database.close().await;
    Ok(())
}

/// The `orders` process: reads the config, then runs until SIGINT/SIGTERM (see
/// [`shopkit::server::run_process`]).
pub async fn serve_from_env() -> anyhow::Result<()> {
    let config = config::Config::from_env()?;
    let common = config.common.clone();
    shopkit::server::run_process(SERVICE_NAME, &common, |listener, shutdown| run(config, listener, shutdown)).await
}
