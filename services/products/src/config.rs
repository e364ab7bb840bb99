//! The products service's settings.

use shopkit::{
    config::{CommonConfig, ConfigError, required},
    faults::Faults,
    service::ServiceConfig,
};

/// Everything the products service reads from the environment.
#[derive(Debug, Clone)]
pub struct Config {
    /// Listen address, database, logs, token issuer and audience.
    pub common: CommonConfig,
    /// `JWT_PUBLIC_KEY`: the users service's Ed25519 public key (SPKI PEM).
    pub jwt_public_key: String,
    /// `FAULTS_FILE`: the fault flags to follow, if any.
    pub faults_file: Option<std::path::PathBuf>,
}

impl ServiceConfig for Config {
    fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            common: CommonConfig::from_env()?,
            jwt_public_key: required("JWT_PUBLIC_KEY")?,
            faults_file: Faults::file_from_env(),
        })
    }

    fn common(&self) -> &CommonConfig {
        &self.common
    }
}
