//! HTTP API: wire types and handlers.

mod accounts;
mod auth;

pub use accounts::AccountsApi;
pub use auth::AuthApi;

use std::{sync::Arc, time::Duration};

use poem_openapi::Tags;
use shopkit::auth::TokenSigner;

use crate::{config::ServiceClient, store::throttle::Limit};

/// How tokens are issued and logins throttled.
#[derive(Debug)]
pub struct AuthSettings {
    /// Signs access tokens.
    pub signer: TokenSigner,
    /// Lifetime of customer and admin tokens.
    pub access_token_ttl: Duration,
    /// Lifetime of service tokens.
    pub service_token_ttl: Duration,
    /// Clients of the client-credentials grant.
    pub service_clients: Vec<ServiceClient>,
    /// Failed logins per account.
    pub per_account: Limit,
    /// Failed logins per client address (several accounts guessed from one place).
    pub per_address: Limit,
}

/// Shared state of the handlers.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The users database.
    pub pool: sqlx::PgPool,
    /// Token issuing and throttling settings.
    pub auth: Arc<AuthSettings>,
    /// Run-time fault flags ([`TOKEN_DELAY_FLAG`]).
    pub faults: shopkit::faults::Faults,
}

/// Fault flag: milliseconds added to every login and service-token request, so that callers
/// (orders' token cache, the storefront's log-in) show a slow identity provider in traces.
pub const TOKEN_DELAY_FLAG: &str = "usersTokenDelayMs";

/// Operation groups in the docs UI.
#[derive(Tags)]
pub enum ApiTags {
    /// Registration and account management.
    Users,
    /// Logins, service tokens and the public signing keys.
    Auth,
}
