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
pub mod relay;
pub mod saga;
pub mod store;

use std::sync::Arc;

use poem::Endpoint;
use poem_openapi::OpenApiService;
use shopkit::{
    auth::TokenVerifier,
    client::TokenSource,
    db::Database,
    server::{ServiceParts, service_routes},
    service::{Opened, Service},
};
use sqlx::migrate::Migrator;

/// The flows over `database`, calling the dependencies in `config`.
pub fn orders(database: &Database, config: &config::Config) -> saga::Orders {
    // The users service issues service tokens (client credentials) at `/auth/token`.
    let token_url = format!("{}/auth/token", config.urls.users.trim_end_matches('/'));
    let tokens = Arc::new(TokenSource::at("users", token_url, config.client_id.clone(), config.client_secret.clone()));
    saga::Orders {
        pool: database.pool().clone(),
        lender: database.lender().clone(),
        deps: clients::Dependencies::new(&config.urls, tokens),
        order_ttl: config.order_ttl,
    }
}

/// The OpenAPI description of the service: served at `/openapi.json` and printed by
/// `orders openapi`, which needs no database.
pub fn openapi() -> OpenApiService<(api::OrdersApi, api::DeliveryApi), ()> {
    OpenApiService::new((api::OrdersApi, api::DeliveryApi), "microshop orders", env!("CARGO_PKG_VERSION"))
        .description("Orders: placed against real stock reservations, paid by card through payments, cancellable with refunds. Amounts are integer minor units.")
}

/// The service's complete HTTP endpoint.
pub fn app(database: Database, verifier: TokenVerifier, orders: saga::Orders) -> impl Endpoint + 'static {
    service_routes(openapi(), ServiceParts { state: orders, database, verifier, schema_rules: api::schema_rules() })
}

/// The embedded migrations.
pub static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// Builds the endpoint over the opened database, checking tokens with `JWT_PUBLIC_KEY`, and
/// starts beside it the sweeper that expires unpaid orders and settles interrupted sagas
/// (at shutdown it finishes the pass it is in).
fn start(config: config::Config, opened: Opened) -> anyhow::Result<impl Endpoint + 'static> {
    shopkit::metrics::business::export_at_zero(&[
        &shopkit::metrics::business::ORDERS_PLACED,
        &shopkit::metrics::business::ORDERS_PAID,
        &shopkit::metrics::business::ORDERS_CANCELLED,
        &shopkit::metrics::business::RESERVATIONS_EXPIRED,
    ]);
    let verifier = TokenVerifier::from_config(&config.jwt_public_key, &config.common)?;
    let flows = orders(&opened.database, &config);
    let (sweeper, database) = (flows.clone(), opened.database.clone());
    let (interval, stale) = (config.sweep_interval, config.recovery_after);
    opened.background.spawn(move |stop| async move {
        database.wait_until_migrated().await;
        sweeper.sweep_forever(interval, stale, stop).await;
    });
    match config.nats_url.clone() {
        Some(url) => {
            let database = opened.database.clone();
            opened.background.spawn(move |stop| relay::relay_forever(database, url, stop));
        }
        None => tracing::info!("NATS_URL unset: order events stay in the outbox"),
    }
    Ok(app(opened.database, verifier, flows))
}

/// The `orders` process: reads the config, then runs until SIGINT/SIGTERM (see
/// [`shopkit::service`]).
pub async fn serve_from_env() -> anyhow::Result<()> {
    shopkit::service::serve_from_env(Service { name: "orders", migrator: &MIGRATOR, start }).await
}
