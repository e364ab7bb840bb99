//! The storefront's settings: the common ones plus where the three services it calls live.

use shopkit::{
    config::{CommonConfig, ConfigError, parse_or, required},
    service::ServiceConfig,
};

/// Everything the storefront reads from the environment (see docs/deployment-contract.md).
#[derive(Debug, Clone)]
pub struct Config {
    /// Listen address, its own database (`storefront`: sessions and carts), logs, token
    /// issuer and audience.
    pub common: CommonConfig,
    /// `JWT_PUBLIC_KEY`: verifies the tokens users issues at log-in, so the storefront knows
    /// the account id, role and expiry without another call.
    pub jwt_public_key: String,
    /// Base URLs of the services the pages are made from.
    pub urls: BackendUrls,
    /// `STOREFRONT_SECURE_COOKIES`: mark the session cookie `Secure` (set `true` behind TLS).
    pub secure_cookies: bool,
}

/// Where products, users and orders answer.
#[derive(Debug, Clone)]
pub struct BackendUrls {
    /// `PRODUCTS_URL`.
    pub products: String,
    /// `USERS_URL`.
    pub users: String,
    /// `ORDERS_URL`.
    pub orders: String,
}

impl ServiceConfig for Config {
    fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            common: CommonConfig::from_env()?,
            jwt_public_key: required("JWT_PUBLIC_KEY")?,
            urls: BackendUrls {
                products: required("PRODUCTS_URL")?,
                users: required("USERS_URL")?,
                orders: required("ORDERS_URL")?,
            },
            secure_cookies: parse_or("STOREFRONT_SECURE_COOKIES", false)?,
        })
    }

    fn common(&self) -> &CommonConfig {
        &self.common
    }
}
