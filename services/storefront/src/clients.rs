//! The services the pages are made from, called over HTTP with the kit client (deadlines,
//! retries of idempotent calls, trace context passed on). The bodies of products and orders are
//! `shopwire`'s, the types those services answer with; users' hold only the fields the pages use.

use std::time::Duration;

use serde::Deserialize;
use shopkit::{
    client::{ClientError, ServiceClient, TokenSource},
    config::Secret,
};
pub use shopwire::{CardBody, ItemBody, Order, OrderLine, OrderPage, Product, ProductPage, Status};
use uuid::Uuid;

use crate::config::{BackendUrls, CLIENT_ID};

/// Log-in hashes a password (argon2) and may be throttled: it gets more time than a read.
const USERS_BUDGET: Duration = Duration::from_secs(5);
/// Placing and paying an order run a saga across three services.
const ORDERS_BUDGET: Duration = Duration::from_secs(10);

/// An account.
#[derive(Debug, Clone, Deserialize)]
pub struct User {
    pub id: Uuid,
    pub email: String,
    /// Display name.
    pub name: String,
}

/// The answer of a log-in.
#[derive(Deserialize)]
pub struct TokenBody {
    /// The user's JWT; kept in the session row, never sent to the browser.
    pub access_token: String,
    /// Exchanged for the next pair when the access token runs out; sealed in the session row.
    pub refresh_token: Option<String>,
}

/// Clients of products, users and orders. Public calls go without a token; calls for a
/// logged-in shopper or admin carry their token ([`Backends::as_user`]).
#[derive(Clone, Debug)]
pub struct Backends {
    /// The catalogue.
    pub products: ServiceClient,
    /// Accounts and log-in.
    pub users: ServiceClient,
    /// Orders and payment.
    pub orders: ServiceClient,
    /// The e-mails sent (staff only); `None` when the deployment has no notifications service.
    pub notifications: Option<ServiceClient>,
    /// Users with the storefront's own service token, for log-ins that carry the shopper's
    /// address; `None` without client credentials.
    pub login: Option<ServiceClient>,
}

impl Backends {
    /// Clients for the configured URLs.
    pub fn new(urls: &BackendUrls) -> Self {
        Self {
            products: ServiceClient::anonymous("products", &urls.products),
            users: ServiceClient::anonymous("users", &urls.users).with_budget(USERS_BUDGET),
            orders: ServiceClient::anonymous("orders", &urls.orders).with_budget(ORDERS_BUDGET),
            notifications: urls.notifications.as_deref().map(|url| ServiceClient::anonymous("notifications", url)),
            login: None,
        }
    }

    /// The same clients, logging shoppers in with the storefront's client credentials at users.
    pub fn with_client_secret(mut self, urls: &BackendUrls, secret: Secret<String>) -> Self {
        let token_url = format!("{}/auth/token", urls.users.trim_end_matches('/'));
        let tokens = std::sync::Arc::new(TokenSource::at("users", token_url, CLIENT_ID.to_owned(), secret));
        self.login = Some(ServiceClient::new("users", &urls.users, tokens).with_budget(USERS_BUDGET));
        self
    }

    /// The same clients acting with a user's token.
    pub fn as_user(&self, token: &Secret<String>) -> Self {
        Self {
            products: self.products.as_user(token),
            users: self.users.as_user(token),
            orders: self.orders.as_user(token),
            notifications: self.notifications.as_ref().map(|client| client.as_user(token)),
            login: self.login.clone(),
        }
    }

    /// Searches the catalogue with the query pairs the products API documents.
    pub async fn search(&self, query: &[(&str, String)]) -> Result<ProductPage, ClientError> {
        let encoded = serde_urlencoded::to_string(query).unwrap_or_default();
        self.products.get(&format!("/products?{encoded}")).await
    }

    /// One product, or `None` when it does not exist (any more).
    pub async fn product(&self, id: Uuid) -> Result<Option<Product>, ClientError> {
        match self.products.get(&format!("/products/{id}")).await {
            Ok(product) => Ok(Some(product)),
            Err(ClientError::Rejected { status, .. }) if status == 404 => Ok(None),
            Err(err) => Err(err),
        }
    }
}
