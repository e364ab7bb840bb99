//! The storefront's settings: the common ones plus where the three services it calls live.

use shopkit::{
    config::{CommonConfig, ConfigError, Secret, optional, parse_or, required},
    service::ServiceConfig,
};

/// The storefront's client id at users (its `SERVICE_CLIENTS` entry).
pub const CLIENT_ID: &str = "storefront";

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
    /// `SERVICE_CLIENT_SECRET`: the storefront's client secret at users (client id
    /// `storefront`). With it, log-ins carry the shopper's address under the storefront's
    /// service token, and users throttles failures per shopper address; without it, users
    /// counts every shopper's failures against the storefront's own address.
    pub client_secret: Option<Secret<String>>,
    /// `TRUSTED_PROXY_HOPS` (default 0): how many proxies in front of the storefront append to
    /// `X-Forwarded-For` (1 behind an Ingress or a Gateway). 0 takes the connection's peer.
    pub trusted_proxy_hops: usize,
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
    /// `NOTIFICATIONS_URL` (optional): the e-mails sent to customers, on a staff page; unset,
    /// that page says e-mails are not set up.
    pub notifications: Option<String>,
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
                notifications: optional("NOTIFICATIONS_URL"),
            },
            secure_cookies: parse_or("STOREFRONT_SECURE_COOKIES", false)?,
            client_secret: optional("SERVICE_CLIENT_SECRET").map(Secret::new),
            trusted_proxy_hops: parse_or("TRUSTED_PROXY_HOPS", 0)?,
        })
    }

    fn common(&self) -> &CommonConfig {
        &self.common
    }
}
