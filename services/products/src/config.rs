//! The products service's settings.

use shopkit::config::{CommonConfig, ConfigError, required};

/// Everything the products service reads from the environment.
#[derive(Debug, Clone)]
pub struct Config {
    /// Listen address, database, logs, token issuer and audience.
    pub common: CommonConfig,
    /// `JWT_PUBLIC_KEY`: the users service's Ed25519 public key (SPKI PEM).
    pub jwt_public_key: String,
}

impl Config {
    /// Reads the settings.
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self { common: CommonConfig::from_env()?, jwt_public_key: required("JWT_PUBLIC_KEY")? })
    }
}
