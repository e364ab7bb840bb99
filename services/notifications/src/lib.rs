//! The microshop notifications service: reads order events from NATS JetStream (a durable
//! consumer; orders publishes them from its outbox) and e-mails the customer over SMTP: the
//! confirmation once an order is paid, a note when it ships, a refund notice. Each event is
//! handled once, keyed by its id in this service's own database; its handling joins the
//! order's trace through the event's `traceparent` header.
//!
//! # Layout
//! - [`consumer`]: the JetStream consumer and the handling of one event.
//! - [`email`]: which events become which e-mail.
//! - [`mailer`]: the way out to the SMTP relay (TLS, login).
//! - [`store`]: handled events and sent e-mails.
//! - [`api`]: `/emails`, the latest e-mails (admin).
//! - [`config`].

pub mod api;
pub mod config;
pub mod consumer;
pub mod email;
pub mod mailer;
pub mod store;

use poem::Endpoint;
use poem_openapi::OpenApiService;
use shopkit::{
    auth::TokenVerifier,
    db::Database,
    server::{ServiceParts, service_routes},
    service::{Opened, Service},
};
use sqlx::migrate::Migrator;

/// The OpenAPI description of the service: served at `/openapi.json` and printed by
/// `notifications openapi`, which needs no database.
pub fn openapi() -> OpenApiService<api::EmailsApi, ()> {
    OpenApiService::new(api::EmailsApi, "microshop notifications", env!("CARGO_PKG_VERSION"))
        .description("E-mails to customers, sent for order events read from NATS JetStream.")
}

/// The service's HTTP endpoint (the consumer runs beside it, see [`start`]).
pub fn app(database: Database, verifier: TokenVerifier) -> impl Endpoint + 'static {
    let state = api::AppState { pool: database.pool().clone() };
    service_routes(openapi(), ServiceParts { state, database, verifier, schema_rules: Vec::new() })
}

/// The embedded migrations.
pub static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// Builds the endpoint and starts the consumer beside it (shutdown stops it between messages).
fn start(config: config::Config, opened: Opened) -> anyhow::Result<impl Endpoint + 'static> {
    let verifier = TokenVerifier::from_config(&config.jwt_public_key, &config.common)?;
    let handler = consumer::Handler::new(opened.database.clone(), &config)?;
    let url = config.nats_url.clone();
    opened.background.spawn(move |stop| consumer::consume_forever(handler, url, stop));
    Ok(app(opened.database, verifier))
}

/// The `notifications` process: reads the config, then runs until SIGINT/SIGTERM.
pub async fn serve_from_env() -> anyhow::Result<()> {
    shopkit::service::serve_from_env(Service { name: "notifications", migrator: &MIGRATOR, start }).await
}
