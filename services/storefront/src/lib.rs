//! The microshop storefront: a server-rendered web shop over the products, users and orders
//! APIs. It keeps only sessions and carts in its own database and reaches the other services
//! over HTTP, with the kit client (trace context passed on).
//!
//! # Layout
//! - [`web`]: pages and forms (poem handlers, askama templates in `templates/`), the session
//!   and CSRF middleware.
//! - [`clients`]: the calls to products, users and orders, and their wire types.
//! - [`domain`]: money display and parsing, cart quantities, drawn product pictures; no I/O.
//! - [`store`]: SQL for sessions and carts.
//! - [`config`]: settings from the environment.

pub mod clients;
pub mod config;
pub mod domain;
pub mod store;
pub mod web;

use std::time::Duration;

use poem::{Endpoint, EndpointExt};
use shopkit::{
    auth::TokenVerifier,
    db::Database,
    server::web_routes,
    service::{Opened, Service},
};
use sqlx::migrate::Migrator;

/// How often expired sessions (and guest carts with them) are deleted.
const SWEEP_INTERVAL: Duration = Duration::from_secs(600);

/// The complete HTTP endpoint: pages behind the session layer, plus health and metrics.
pub fn app(database: Database, state: web::AppState) -> impl Endpoint + 'static {
    let layer = web::session::SessionLayer { state: state.clone() };
    // The jar outside the session layer: it reads the request's cookies before the layer looks
    // for the session id, and writes what the layer and the pages added after they answered.
    web_routes(web::routes(state), database).with(layer).with(poem::middleware::CookieJarManager::new())
}

/// The embedded migrations (`migrations/*.sql`).
pub static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// Builds the pages over the opened database, checking log-in tokens with `JWT_PUBLIC_KEY`,
/// and starts beside them the sweeper of expired sessions, which shutdown cuts off wherever
/// it is (a sweep left unfinished is done again by the next one).
fn start(config: config::Config, opened: Opened) -> anyhow::Result<impl Endpoint + 'static> {
    let verifier = TokenVerifier::from_config(&config.jwt_public_key, &config.common)?;
    let mut backends = clients::Backends::new(&config.urls);
    if let Some(secret) = config.client_secret.clone() {
        backends = backends.with_client_secret(&config.urls, secret);
    }
    let mut state = web::AppState::new(opened.database.pool().clone(), backends, verifier, config.secure_cookies);
    state.trusted_proxy_hops = config.trusted_proxy_hops;
    let sessions = opened.database.clone();
    opened.background.spawn(move |mut stop| async move {
        tokio::select! {
            () = sweep_sessions(sessions) => {}
            _ = stop.changed() => {}
        }
    });
    Ok(app(opened.database, state))
}

async fn sweep_sessions(database: Database) {
    database.wait_until_migrated().await;
    let mut ticker = tokio::time::interval(SWEEP_INTERVAL);
    loop {
        ticker.tick().await;
        let swept = match database.pool().acquire().await {
            Ok(mut conn) => store::sessions::sweep_expired(&mut conn).await,
            Err(err) => Err(err),
        };
        match swept {
            Ok(0) => {}
            Ok(n) => tracing::info!(sessions = n, "expired sessions deleted"),
            Err(err) => tracing::warn!(error = %err, "could not delete expired sessions"),
        }
    }
}

/// The `storefront` process: reads the config, then runs until SIGINT/SIGTERM (see
/// [`shopkit::service`]).
pub async fn serve_from_env() -> anyhow::Result<()> {
    shopkit::service::serve_from_env(Service { name: "storefront", migrator: &MIGRATOR, start }).await
}
