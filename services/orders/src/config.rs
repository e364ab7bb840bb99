//! The orders service's settings.

use std::time::Duration;

use shopkit::{
    config::{CommonConfig, ConfigError, Secret, optional, parse_or, required},
    service::ServiceConfig,
};

use crate::clients::DependencyUrls;

/// Everything the orders service reads from the environment.
#[derive(Debug, Clone)]
pub struct Config {
    /// Listen address, database, logs, token issuer and audience.
    pub common: CommonConfig,
    /// `JWT_PUBLIC_KEY`.
    pub jwt_public_key: String,
    /// `USERS_URL`, `PRODUCTS_URL`, `PAYMENTS_URL`.
    pub urls: DependencyUrls,
    /// `SERVICE_CLIENT_ID` (default `orders`).
    pub client_id: String,
    /// `SERVICE_CLIENT_SECRET`.
    pub client_secret: Secret<String>,
    /// `ORDER_TTL_SECS` (default 900): how long an unpaid order holds its stock.
    pub order_ttl: Duration,
    /// `ORDER_SWEEP_INTERVAL_SECS` (default 15): how often expiry and recovery run.
    pub sweep_interval: Duration,
    /// `ORDER_RECOVERY_AFTER_SECS` (default 30): how old a half-done saga must be before the
    /// sweeper settles it (longer than any request takes).
    pub recovery_after: Duration,
    /// `NATS_URL`: where the outbox relay publishes order events (JetStream), with the login in
    /// it when the server wants one (`nats://user:password@host`, `nats://token@host`); unset, the
    /// events stay in the outbox unpublished.
    pub nats_url: Option<String>,
}

impl ServiceConfig for Config {
    fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            common: CommonConfig::from_env()?,
            jwt_public_key: required("JWT_PUBLIC_KEY")?,
            urls: DependencyUrls {
                users: required("USERS_URL")?,
                products: required("PRODUCTS_URL")?,
                payments: required("PAYMENTS_URL")?,
            },
            client_id: parse_or("SERVICE_CLIENT_ID", "orders".to_owned())?,
            client_secret: Secret::new(required("SERVICE_CLIENT_SECRET")?),
            order_ttl: Duration::from_secs(parse_or("ORDER_TTL_SECS", 900)?),
            sweep_interval: Duration::from_secs_f64(parse_or("ORDER_SWEEP_INTERVAL_SECS", 15.0)?),
            recovery_after: Duration::from_secs_f64(parse_or("ORDER_RECOVERY_AFTER_SECS", 30.0)?),
            nats_url: optional("NATS_URL"),
        })
    }

    fn common(&self) -> &CommonConfig {
        &self.common
    }
}
