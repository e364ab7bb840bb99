//! HTTP API: wire types and handlers.

mod accounts;
mod addresses;
mod auth;

pub use accounts::AccountsApi;
pub use addresses::AddressesApi;
pub use auth::AuthApi;

use std::{sync::Arc, time::Duration};

use poem_openapi::Tags;
use serde_json::json;
use shopkit::auth::TokenSigner;
use shopkit::edge::SchemaRule;

use crate::{
    config::{DEFAULT_ACCESS_TOKEN_TTL, DEFAULT_REFRESH_TOKEN_TTL, DEFAULT_SERVICE_TOKEN_TTL, ServiceClient},
    store::throttle::Limit,
};

/// How tokens are issued and logins throttled.
#[derive(Debug)]
pub struct AuthSettings {
    /// Signs access tokens.
    pub signer: TokenSigner,
    /// Lifetime of customer and admin tokens.
    pub access_token_ttl: Duration,
    /// Lifetime of service tokens.
    pub service_token_ttl: Duration,
    /// Lifetime of each refresh token.
    pub refresh_token_ttl: Duration,
    /// Clients of the client-credentials grant.
    pub service_clients: Vec<ServiceClient>,
    /// Failed logins per account.
    pub per_account: Limit,
    /// Failed logins per client address (several accounts guessed from one place).
    pub per_address: Limit,
    /// Failed logins per account over all addresses (one account guessed from many places);
    /// not applied from addresses the account has logged in from.
    pub per_account_everywhere: Limit,
    /// Checks the service tokens of callers that log someone in on their behalf.
    pub verifier: shopkit::auth::TokenVerifier,
}

/// Failed logins allowed from one client address per window, as a multiple of the per-account
/// limit: higher, since several people may share an address (an office, a NAT).
const PER_ADDRESS_FACTOR: i32 = 4;
/// Failed logins allowed for one account over all addresses per window, as a multiple of the
/// per-account-and-address limit: a brake on guessing spread over many addresses.
const EVERYWHERE_FACTOR: i32 = 10;

impl AuthSettings {
    /// Settings that sign with `signer`, accept `service_clients`, lock an account for one
    /// address after `per_account` failures, an address after four times as many, and an
    /// account everywhere but its known addresses after ten times as many; token lifetimes are
    /// the defaults (override the fields to change them). The one place these settings are
    /// assembled, for the service and its tests alike.
    pub fn new(signer: TokenSigner, service_clients: Vec<ServiceClient>, per_account: Limit) -> Self {
        let scaled = |factor: i32| Limit {
            max_failures: per_account.max_failures.saturating_mul(factor),
            window: per_account.window,
        };
        let (per_address, per_account_everywhere) = (scaled(PER_ADDRESS_FACTOR), scaled(EVERYWHERE_FACTOR));
        let verifier = signer.verifier();
        Self {
            per_account_everywhere,
            verifier,
            signer,
            access_token_ttl: DEFAULT_ACCESS_TOKEN_TTL,
            service_token_ttl: DEFAULT_SERVICE_TOKEN_TTL,
            refresh_token_ttl: DEFAULT_REFRESH_TOKEN_TTL,
            service_clients,
            per_account,
            per_address,
        }
    }
}

/// Shared state of the handlers.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The users database.
    pub pool: sqlx::PgPool,
    /// Its connections lent without sqlx's return ping (`shopkit::lender`), for the account
    /// read every order makes.
    pub lender: Arc<shopkit::lender::Lender>,
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

/// Where the domain types' rules apply, written into the spec (see [`SchemaRule`]): each rule
/// is the constant its type's `parse` checks. A password's other rules (not a common password,
/// not the email) cannot be said in JSON Schema; nor can an address's shape beyond `format`.
pub fn schema_rules() -> Vec<SchemaRule> {
    use crate::domain::{account::DisplayName, password::LENGTH_RULE};
    use SchemaRule::{Field, Param};
    let email = json!({"format": "email", "maxLength": shopcore::email::MAX_LEN});
    vec![
        Field("RegisterBody", "email", email.clone()),
        Field("RegisterBody", "name", DisplayName::RULE.schema()),
        Field("RegisterBody", "password", LENGTH_RULE.schema()),
        Field("ProfilePatchBody", "email", email.clone()),
        Param("findUsers", "email", email),
        Field("ProfilePatchBody", "name", DisplayName::RULE.schema()),
        Field("ProfilePatchBody", "password", LENGTH_RULE.schema()),
        Field("ClientCredentialsBody", "client_id", auth::CLIENT_ID_RULE.schema()),
        Field("LoginBody", "client_address", json!({"anyOf": [{"format": "ipv4"}, {"format": "ipv6"}]})),
        Field("RefreshBody", "refresh_token", auth::REFRESH_TOKEN_RULE.schema()),
    ]
    .into_iter()
    .chain(shopkit::address::schema_rules("NewAddressBody"))
    .collect()
}
