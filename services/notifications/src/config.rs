//! The notifications service's settings.

use shopkit::{
    config::{CommonConfig, ConfigError, Secret, parse_or, required},
    service::ServiceConfig,
};

/// The service's client id at users (its `SERVICE_CLIENTS` entry): it reads customers' e-mail
/// addresses with that service token.
pub const CLIENT_ID: &str = "notifications";

/// Where e-mails go out.
#[derive(Debug, Clone)]
pub struct Smtp {
    /// `SMTP_HOST`: the relay (a local catcher in dev and compose).
    pub host: String,
    /// `SMTP_PORT` (default 25).
    pub port: u16,
    /// `MAIL_FROM` (default `microshop <orders@microshop.local>`).
    pub from: String,
}

/// Everything the notifications service reads from the environment.
#[derive(Debug, Clone)]
pub struct Config {
    /// Listen address, its own database (handled events, sent e-mails), logs, token checks.
    pub common: CommonConfig,
    /// `JWT_PUBLIC_KEY`: checks the admin tokens of `/emails`.
    pub jwt_public_key: String,
    /// `NATS_URL`: the JetStream server orders publishes its events to.
    pub nats_url: String,
    pub smtp: Smtp,
    /// `USERS_URL`.
    pub users_url: String,
    /// `SERVICE_CLIENT_SECRET`: its client secret at users.
    pub client_secret: Secret<String>,
    /// `SHOP_URL` (default `http://localhost:8080`): the storefront, for links in e-mails.
    pub shop_url: String,
}

impl ServiceConfig for Config {
    fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            common: CommonConfig::from_env()?,
            jwt_public_key: required("JWT_PUBLIC_KEY")?,
            nats_url: required("NATS_URL")?,
            smtp: Smtp {
                host: required("SMTP_HOST")?,
                port: parse_or("SMTP_PORT", 25)?,
                from: parse_or("MAIL_FROM", "microshop <orders@microshop.local>".to_owned())?,
            },
            users_url: required("USERS_URL")?,
            client_secret: Secret::new(required("SERVICE_CLIENT_SECRET")?),
            shop_url: parse_or("SHOP_URL", "http://localhost:8080".to_owned())?,
        })
    }

    fn common(&self) -> &CommonConfig {
        &self.common
    }
}
