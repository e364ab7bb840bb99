//! The payments service's settings.

use std::time::Duration;

use shopkit::{
    config::{CommonConfig, ConfigError, parse_or, required},
    service::ServiceConfig,
};

/// How the simulated processor misbehaves, for testing timeouts and retries.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Simulation {
    /// Added to every charge (`PAYMENTS_SIMULATED_LATENCY_MS`).
    pub latency: Duration,
    /// Share of charges that fail with a processor error, 0.0-1.0 (`PAYMENTS_FAILURE_RATE`).
    pub failure_rate: f64,
}

impl Default for Simulation {
    fn default() -> Self {
        Self { latency: Duration::ZERO, failure_rate: 0.0 }
    }
}

/// Everything the payments service reads from the environment.
#[derive(Debug, Clone)]
pub struct Config {
    /// Listen address, database, logs, token issuer and audience.
    pub common: CommonConfig,
    /// `JWT_PUBLIC_KEY`: the users service's Ed25519 public key (SPKI PEM) that tokens are checked with.
    pub jwt_public_key: String,
    /// Processor simulation.
    pub simulation: Simulation,
    /// `FAULTS_FILE`: the fault flags to follow, if any.
    pub faults_file: Option<std::path::PathBuf>,
}

impl ServiceConfig for Config {
    fn from_env() -> Result<Self, ConfigError> {
        let failure_rate: f64 = parse_or("PAYMENTS_FAILURE_RATE", 0.0)?;
        if !(0.0..=1.0).contains(&failure_rate) {
            return Err(ConfigError::Invalid {
                name: "PAYMENTS_FAILURE_RATE",
                reason: "must be between 0 and 1".into(),
            });
        }
        Ok(Self {
            common: CommonConfig::from_env()?,
            jwt_public_key: required("JWT_PUBLIC_KEY")?,
            simulation: Simulation {
                latency: Duration::from_millis(parse_or("PAYMENTS_SIMULATED_LATENCY_MS", 0)?),
                failure_rate,
            },
            faults_file: shopkit::faults::Faults::file_from_env(),
        })
    }

    fn common(&self) -> &CommonConfig {
        &self.common
    }
}
