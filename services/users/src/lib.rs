//! The microshop users service: registration, login, profiles, and the Ed25519-signed JWTs
//! that every other service verifies with the public key.
//!
//! # Layout
//! - [`api`]: HTTP handlers and wire types (poem-openapi).
//! - [`domain`]: emails, names, the password rule and argon2id hashing; no I/O.
//! - [`store`]: SQL (accounts, failed-login throttling).
//! - [`bootstrap`]: the admin account created from the environment, in the background at start.
//! - [`hashing`]: runs argon2 on the blocking pool.
//! - [`error`], [`config`].

pub mod api;
pub mod bootstrap;
pub mod config;
pub mod domain;
pub mod error;
pub mod hashing;
pub mod store;

use std::sync::Arc;

use poem::Endpoint;
use poem_openapi::OpenApiService;
use shopkit::{
    auth::TokenSigner,
    db::Database,
    faults::Faults,
    server::{ServiceParts, service_routes},
    service::{Opened, Service},
};
use sqlx::migrate::Migrator;

/// The OpenAPI description of the service: served at `/openapi.json` and printed by
/// `users openapi`, which needs no database.
pub fn openapi() -> OpenApiService<(api::AccountsApi, api::AddressesApi, api::AuthApi), ()> {
    OpenApiService::new((api::AccountsApi, api::AddressesApi, api::AuthApi), "microshop users", env!("CARGO_PKG_VERSION"))
        .description("Accounts and authentication. Tokens are EdDSA (Ed25519) JWTs; verify them with the keys at /.well-known/jwks.json.")
}

/// Builds the token and throttling settings from the config.
pub fn auth_settings(config: &config::Config) -> anyhow::Result<api::AuthSettings> {
    let signer = TokenSigner::from_private_pem(
        config.jwt_private_key.expose(),
        config.jwt_key_id.clone(),
        &config.common.jwt_issuer,
        &config.common.jwt_audience,
    )?;
    let per_account = store::throttle::Limit { max_failures: config.login_max_failures, window: config.login_lockout };
    Ok(api::AuthSettings {
        access_token_ttl: config.access_token_ttl,
        service_token_ttl: config.service_token_ttl,
        refresh_token_ttl: config.refresh_token_ttl,
        ..api::AuthSettings::new(signer, config.service_clients.clone(), per_account)
    })
}

/// The service's complete HTTP endpoint.
pub fn app(database: Database, auth: api::AuthSettings) -> impl Endpoint + 'static {
    app_with_faults(database, auth, Faults::none())
}

/// [`app`] with run-time fault flags: slow logins and service tokens.
pub fn app_with_faults(database: Database, auth: api::AuthSettings, faults: Faults) -> impl Endpoint + 'static {
    let verifier = auth.signer.verifier();
    let state = api::AppState {
        pool: database.pool().clone(),
        lender: database.lender().clone(),
        auth: Arc::new(auth),
        faults,
    };
    service_routes(openapi(), ServiceParts { state, database, verifier, schema_rules: api::schema_rules() })
}

/// The embedded migrations (`migrations/*.sql`).
pub static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// Builds the endpoint over the opened database, signing tokens with `JWT_PRIVATE_KEY` and
/// following the fault flags in `FAULTS_FILE`; creates the bootstrap admin in the
/// background when the config names one.
fn start(config: config::Config, opened: Opened) -> anyhow::Result<impl Endpoint + 'static> {
    shopkit::metrics::business::export_at_zero(&[&shopkit::metrics::business::LOGINS_THROTTLED]);
    let auth = auth_settings(&config)?;
    let faults = Faults::load(config.faults_file.as_deref())?;
    if let Some(admin) = config.bootstrap_admin {
        bootstrap::ensure_admin_in_background(&opened.database, admin);
    }
    Ok(app_with_faults(opened.database, auth, faults))
}

/// The `users` process: makes the allocator give password-hashing buffers back, reads the
/// config, then runs until SIGINT/SIGTERM (see [`shopkit::service`]).
pub async fn serve_from_env() -> anyhow::Result<()> {
    hashing::return_large_buffers_to_the_os();
    shopkit::service::serve_from_env(Service { name: "users", migrator: &MIGRATOR, start }).await
}
