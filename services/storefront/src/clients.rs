//! The three services the pages are made from, called over HTTP with the kit client (deadlines,
//! retries of idempotent calls, trace context passed on). Wire types hold only the fields the
//! pages use.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use shopkit::{
    client::{ClientError, ServiceClient},
    config::Secret,
};
use uuid::Uuid;

use crate::config::BackendUrls;

/// Log-in hashes a password (argon2) and may be throttled: it gets more time than a read.
const USERS_BUDGET: Duration = Duration::from_secs(5);
/// Placing and paying an order run a saga across three services.
const ORDERS_BUDGET: Duration = Duration::from_secs(10);

/// A product as the catalogue returns it.
#[derive(Debug, Clone, Deserialize)]
pub struct Product {
    pub id: Uuid,
    pub sku: String,
    pub name: String,
    pub description: String,
    /// Unit price, minor units.
    pub price: i64,
    /// ISO 4217 code.
    pub currency: String,
    /// Units for sale now.
    pub stock: i32,
    /// Category slug.
    pub category: String,
    /// Picture URL, if any.
    #[serde(default)]
    pub image_url: Option<String>,
}

/// A page of search results.
#[derive(Debug, Clone, Deserialize)]
pub struct ProductPage {
    /// The products.
    pub items: Vec<Product>,
    /// Cursor of the next page.
    #[serde(default)]
    pub next_cursor: Option<String>,
}

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
}

/// An order line.
#[derive(Debug, Clone, Deserialize)]
pub struct OrderLine {
    pub product_id: Uuid,
    /// Name when ordered.
    pub name: String,
    /// Unit price when ordered.
    pub unit_price: i64,
    pub quantity: i32,
    pub line_total: i64,
}

/// An order.
#[derive(Debug, Clone, Deserialize)]
pub struct Order {
    pub id: Uuid,
    pub user_id: Uuid,
    /// `pending`, `paid`, `shipped`, `delivered` or `cancelled`.
    pub status: String,
    pub items: Vec<OrderLine>,
    /// Total, minor units.
    pub total: i64,
    pub currency: String,
    /// The successful payment, once paid (kept after a refund).
    #[serde(default)]
    pub payment_id: Option<Uuid>,
    /// Why it was cancelled.
    #[serde(default)]
    pub cancel_reason: Option<String>,
    /// When a pending order expires.
    #[serde(default)]
    pub expires_at: Option<DateTime<Utc>>,
    /// Placed at.
    pub created_at: DateTime<Utc>,
    /// Trace of the purchase.
    #[serde(default)]
    pub trace_id: Option<String>,
}

/// A page of orders.
#[derive(Debug, Clone, Deserialize)]
pub struct OrderPage {
    /// Newest first.
    pub items: Vec<Order>,
    /// Cursor of the next page.
    #[serde(default)]
    pub next_cursor: Option<String>,
}

/// One line of a new order.
#[derive(Debug, Serialize)]
pub struct ItemBody {
    pub product_id: Uuid,
    pub quantity: i32,
}

/// Card details, passed through to orders (and on to payments); never stored here.
#[derive(Serialize)]
pub struct CardBody {
    pub number: String,
    /// Expiry month.
    pub exp_month: u32,
    /// Expiry year.
    pub exp_year: i32,
    pub cvc: String,
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
}

impl Backends {
    /// Clients for the configured URLs.
    pub fn new(urls: &BackendUrls) -> Self {
        Self {
            products: ServiceClient::anonymous("products", &urls.products),
            users: ServiceClient::anonymous("users", &urls.users).with_budget(USERS_BUDGET),
            orders: ServiceClient::anonymous("orders", &urls.orders).with_budget(ORDERS_BUDGET),
        }
    }

    /// The same clients acting with a user's token.
    pub fn as_user(&self, token: &Secret<String>) -> Self {
        Self {
            products: self.products.as_user(token),
            users: self.users.as_user(token),
            orders: self.orders.as_user(token),
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
