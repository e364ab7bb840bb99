//! The microshop users service: registration, login, profiles, and the Ed25519-signed JWTs
//! that every other service verifies with the public key.
//!
//! # Layout
//! - [`api`]: HTTP handlers and wire types (poem-openapi).
//! - [`domain`]: emails, names, the password rule and argon2id hashing; no I/O.
//! - [`store`]: SQL (accounts, failed-login throttling).
//! - [`bootstrap`]: the admin account created from the environment.
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
    server::{ServiceParts, openapi_service, service_routes},
};

/// The service name, used in logs, the spec and telemetry.
pub const SERVICE_NAME: &str = "users";

/// The embedded migrations (`migrations/*.sql`).
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// The OpenAPI description of the service.
pub fn openapi() -> OpenApiService<(api::AccountsApi, api::AuthApi), ()> {
    openapi_service(
        (api::AccountsApi, api::AuthApi),
        "microshop users",
        env!("CARGO_PKG_VERSION"),
        "Accounts and authentication. Tokens are EdDSA (Ed25519) JWTs; verify them with the keys at /.well-known/jwks.json.",
    )
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
    let state = api::AppState { pool: database.pool().clone(), auth: Arc::new(auth), faults };
    service_routes(openapi(), ServiceParts { state, database, verifier, schema_rules: api::schema_rules() })
}

/// Runs the service until `shutdown` resolves: migrations and the admin bootstrap run in the
/// background (not-ready until migrated), requests are served meanwhile.
pub async fn run(
    config: config::Config,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()>,
) -> anyhow::Result<()> {
    let database = Database::open(&config.common, &MIGRATOR)?;
    let auth = auth_settings(&config)?;
    let faults = Faults::load(config.faults_file.as_deref())?;
    if let Some(admin) = config.bootstrap_admin.clone() {
        // Not ready until the admin exists: seeding scripts log in as soon as we are ready.
        let gate = database.gate_readiness();
        let db = database.clone();
        tokio::spawn(async move {
            db.wait_until_migrated().await;
            let mut delay = std::time::Duration::from_millis(250);
            loop {
                match bootstrap::ensure_admin(&db, &admin).await {
                    Ok(created) => {
                        tracing::info!(created, "bootstrap admin present");
                        break;
                    }
                    Err(error::UsersError::Database(err)) => {
                        tracing::warn!(error = %err, "bootstrap admin: database error, retrying");
                        tokio::time::sleep(delay).await;
                        delay = (delay * 2).min(std::time::Duration::from_secs(10));
                    }
                    Err(err) => {
                        tracing::error!(error = %err, "bootstrap admin could not be created (check BOOTSTRAP_ADMIN_*)");
                        break;
                    }
                }
            }
            gate.open();
        });
    }
    shopkit::server::serve(listener, app_with_faults(database.clone(), auth, faults), shutdown).await?;
    database.close().await;
    Ok(())
}

/// The `users` process: reads the config, then runs until SIGINT/SIGTERM (see
/// [`shopkit::server::run_process`]).
pub async fn serve_from_env() -> anyhow::Result<()> {
    hashing::return_large_buffers_to_the_os();
    let config = config::Config::from_env()?;
    let common = config.common.clone();
    shopkit::server::run_process(SERVICE_NAME, &common, |listener, shutdown| run(config, listener, shutdown)).await
}
