//! The users service's settings.

use std::time::Duration;

use shopkit::{
    config::{CommonConfig, ConfigError, Secret, optional, parse_or, required},
    service::ServiceConfig,
};

/// Lifetime of customer and admin tokens when `ACCESS_TOKEN_TTL_SECS` is unset.
pub const DEFAULT_ACCESS_TOKEN_TTL: Duration = Duration::from_secs(900);
/// Lifetime of service tokens when `SERVICE_TOKEN_TTL_SECS` is unset: shorter, since a service
/// fetches a new one without anyone noticing.
pub const DEFAULT_SERVICE_TOKEN_TTL: Duration = Duration::from_secs(300);
/// Lifetime of a refresh token when `REFRESH_TOKEN_TTL_SECS` is unset: a week, the storefront
/// session's life. Each exchange issues a successor living as long again, so an idle week ends
/// the log-in and an active shopper stays in.
pub const DEFAULT_REFRESH_TOKEN_TTL: Duration = Duration::from_secs(7 * 24 * 3600);

/// A client allowed to use the client-credentials grant (another microshop service).
#[derive(Debug, Clone)]
pub struct ServiceClient {
    /// Client id; becomes the `sub` of its tokens.
    pub id: String,
    /// Shared secret.
    pub secret: Secret<String>,
}

/// The admin account ensured at start.
#[derive(Debug, Clone)]
pub struct BootstrapAdmin {
    pub email: String,
    pub password: Secret<String>,
}

/// Everything the users service reads from the environment.
#[derive(Debug, Clone)]
pub struct Config {
    /// Listen address, database, logs, token issuer and audience.
    pub common: CommonConfig,
    /// `JWT_PRIVATE_KEY`: Ed25519 PKCS#8 PEM.
    pub jwt_private_key: Secret<String>,
    /// `JWT_KEY_ID`: optional explicit `kid`.
    pub jwt_key_id: Option<String>,
    /// `ACCESS_TOKEN_TTL_SECS` (default 900).
    pub access_token_ttl: Duration,
    /// `SERVICE_TOKEN_TTL_SECS` (default 300).
    pub service_token_ttl: Duration,
    /// `REFRESH_TOKEN_TTL_SECS` (default 604800, a week).
    pub refresh_token_ttl: Duration,
    /// `SERVICE_CLIENTS`: `id=secret` pairs, comma-separated.
    pub service_clients: Vec<ServiceClient>,
    /// `BOOTSTRAP_ADMIN_EMAIL` and `BOOTSTRAP_ADMIN_PASSWORD`, when both are set.
    pub bootstrap_admin: Option<BootstrapAdmin>,
    /// `LOGIN_MAX_FAILURES` (default 5): failed logins per account before a lockout.
    pub login_max_failures: i32,
    /// `LOGIN_LOCKOUT_SECS` (default 900): the counting window and lockout length.
    pub login_lockout: Duration,
    /// `FAULTS_FILE`: the fault flags to follow, if any.
    pub faults_file: Option<std::path::PathBuf>,
}

/// Parses `SERVICE_CLIENTS`.
pub fn parse_service_clients(raw: &str) -> Result<Vec<ServiceClient>, ConfigError> {
    raw.split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .map(|entry| match entry.split_once('=') {
            Some((id, secret)) if !id.trim().is_empty() && secret.len() >= 16 => {
                Ok(ServiceClient { id: id.trim().to_owned(), secret: Secret::new(secret.to_owned()) })
            }
            _ => Err(ConfigError::Invalid {
                name: "SERVICE_CLIENTS",
                reason: "expected id=secret pairs separated by commas, secrets of at least 16 characters".into(),
            }),
        })
        .collect()
}

impl ServiceConfig for Config {
    fn from_env() -> Result<Self, ConfigError> {
        let bootstrap_admin = match (optional("BOOTSTRAP_ADMIN_EMAIL"), optional("BOOTSTRAP_ADMIN_PASSWORD")) {
            (Some(email), Some(password)) => Some(BootstrapAdmin { email, password: Secret::new(password) }),
            (None, None) => None,
            _ => {
                return Err(ConfigError::Invalid {
                    name: "BOOTSTRAP_ADMIN_EMAIL",
                    reason: "set both BOOTSTRAP_ADMIN_EMAIL and BOOTSTRAP_ADMIN_PASSWORD, or neither".into(),
                });
            }
        };
        Ok(Self {
            common: CommonConfig::from_env()?,
            jwt_private_key: Secret::new(required("JWT_PRIVATE_KEY")?),
            jwt_key_id: optional("JWT_KEY_ID"),
            access_token_ttl: Duration::from_secs(parse_or(
                "ACCESS_TOKEN_TTL_SECS",
                DEFAULT_ACCESS_TOKEN_TTL.as_secs(),
            )?),
            service_token_ttl: Duration::from_secs(parse_or(
                "SERVICE_TOKEN_TTL_SECS",
                DEFAULT_SERVICE_TOKEN_TTL.as_secs(),
            )?),
            refresh_token_ttl: Duration::from_secs(parse_or(
                "REFRESH_TOKEN_TTL_SECS",
                DEFAULT_REFRESH_TOKEN_TTL.as_secs(),
            )?),
            service_clients: parse_service_clients(&optional("SERVICE_CLIENTS").unwrap_or_default())?,
            bootstrap_admin,
            login_max_failures: parse_or("LOGIN_MAX_FAILURES", 5)?,
            login_lockout: Duration::from_secs(parse_or("LOGIN_LOCKOUT_SECS", 900)?),
            faults_file: shopkit::faults::Faults::file_from_env(),
        })
    }

    fn common(&self) -> &CommonConfig {
        &self.common
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_clients_parse_and_reject_weak_or_malformed_entries() {
        let clients = parse_service_clients("orders=0123456789abcdef, payments=fedcba9876543210").expect("valid");
        assert_eq!(clients.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(), ["orders", "payments"]);
        assert!(parse_service_clients("").expect("empty is fine").is_empty());
        assert!(parse_service_clients("orders=short").is_err(), "short secret");
        assert!(parse_service_clients("orders").is_err(), "no secret");
        assert!(parse_service_clients("=0123456789abcdef").is_err(), "no id");
    }
}
