//! The HTTP calls shoppers and the admin make, each timed and classified into [`Stats`].
//!
//! Every call lists the statuses a healthy shop may answer it with. Anything else, and every
//! transport failure, is recorded as unexpected and the call returns `None`: the session then
//! gives up, as a person facing an error page would.

use std::{sync::Arc, time::Instant};

use reqwest::{Client, RequestBuilder};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{
    settings::Settings,
    stats::{Outcome, Stats},
};

/// How long any one request may take before it counts as a timeout.
pub const REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// A test card the simulated processor accepts.
pub const GOOD_CARD: &str = "4242424242424242";
/// A test card the simulated processor declines (insufficient funds).
pub const DECLINED_CARD: &str = "4000000000000002";

/// A product as shoppers see it in a listing.
#[derive(Debug, Clone, PartialEq)]
pub struct Listed {
    /// Product id.
    pub id: Uuid,
    /// Product name, the source of search words.
    pub name: String,
    /// Units left.
    pub stock: i64,
}

/// How placing an order ended.
#[derive(Debug, PartialEq)]
pub enum Placed {
    /// The order exists, its stock reserved.
    Order(Uuid),
    /// Refused for want of stock: someone bought it first.
    SoldOut,
}

/// How paying ended.
#[derive(Debug, PartialEq)]
pub enum Paid {
    /// The order is paid.
    Paid,
    /// The card was declined; the order stays payable.
    Declined,
}

/// The shop as seen from outside, over HTTP.
#[derive(Debug, Clone)]
pub struct Shop {
    http: Client,
    products: String,
    users: String,
    orders: String,
    storefront: Option<String>,
    stats: Arc<Stats>,
}

impl Shop {
    /// A client for the shop at the addresses of `settings`, recording into `stats`.
    pub fn new(settings: &Settings, stats: Arc<Stats>) -> anyhow::Result<Self> {
        let http = Client::builder().timeout(REQUEST_TIMEOUT).pool_max_idle_per_host(64).build()?;
        Ok(Self {
            http,
            products: settings.products_url.clone(),
            users: settings.users_url.clone(),
            orders: settings.orders_url.clone(),
            storefront: settings.storefront_url.clone(),
            stats,
        })
    }

    /// Sends `request`, records it as `operation`, and returns the status and JSON body when
    /// the status is one of `expected`.
    async fn call(&self, operation: &'static str, request: RequestBuilder, expected: &[u16]) -> Option<(u16, Value)> {
        let started = Instant::now();
        let result = request.send().await;
        let (outcome, answer) = match result {
            Err(error) => (Outcome::Unexpected(transport_kind(&error).to_owned()), None),
            Ok(response) => {
                let status = response.status().as_u16();
                // Read the whole body inside the timing: a slow body is a slow answer.
                let body = response.bytes().await.ok();
                if expected.contains(&status) {
                    let json = body.and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or(Value::Null);
                    (Outcome::Expected, Some((status, json)))
                } else {
                    (Outcome::Unexpected(status.to_string()), None)
                }
            }
        };
        self.stats.record(operation, started.elapsed(), outcome);
        answer
    }

    /// The catalogue's first page in the order `sort`.
    pub async fn browse(&self, sort: &str) -> Option<Vec<Listed>> {
        let request = self.http.get(format!("{}/products", self.products)).query(&[("sort", sort), ("limit", "20")]);
        self.call("browse", request, &[200]).await.map(|(_, body)| listed(&body))
    }

    /// A search for `words`.
    pub async fn search(&self, words: &str) -> Option<Vec<Listed>> {
        let request = self.http.get(format!("{}/products", self.products)).query(&[("q", words), ("limit", "20")]);
        self.call("search", request, &[200]).await.map(|(_, body)| listed(&body))
    }

    /// One product's page; a product deleted meanwhile (404) is a normal outcome.
    pub async fn view(&self, id: Uuid) -> Option<()> {
        let request = self.http.get(format!("{}/products/{id}", self.products));
        self.call("view_product", request, &[200, 404]).await.map(|_| ())
    }

    /// The storefront's home page, when there is a storefront (always "done" otherwise).
    pub async fn storefront_home(&self) -> Option<()> {
        let Some(base) = &self.storefront else { return Some(()) };
        self.call("storefront_home", self.http.get(format!("{base}/")), &[200]).await.map(|_| ())
    }

    /// The storefront's search page for `words`, when there is a storefront.
    pub async fn storefront_search(&self, words: &str) -> Option<()> {
        let Some(base) = &self.storefront else { return Some(()) };
        let request = self.http.get(format!("{base}/")).query(&[("q", words)]);
        self.call("storefront_search", request, &[200]).await.map(|_| ())
    }

    /// The storefront's page of one product, when there is a storefront.
    pub async fn storefront_product(&self, id: Uuid) -> Option<()> {
        let Some(base) = &self.storefront else { return Some(()) };
        let request = self.http.get(format!("{base}/products/{id}"));
        self.call("storefront_product", request, &[200, 404]).await.map(|_| ())
    }

    /// Opens an account.
    pub async fn register(&self, email: &str, password: &str, name: &str) -> Option<()> {
        let body = json!({"email": email, "password": password, "name": name});
        let request = self.http.post(format!("{}/users", self.users)).json(&body);
        self.call("register", request, &[201]).await.map(|_| ())
    }

    /// Logs in; the access token.
    pub async fn login(&self, email: &str, password: &str) -> Option<String> {
        let request =
            self.http.post(format!("{}/auth/login", self.users)).json(&json!({"email": email, "password": password}));
        let (_, body) = self.call("login", request, &[200]).await?;
        body["access_token"].as_str().map(str::to_owned)
    }

    /// Places an order of `items` (product id, quantity).
    pub async fn place_order(&self, token: &str, items: &[(Uuid, u32)]) -> Option<Placed> {
        let items: Vec<Value> = items.iter().map(|(id, qty)| json!({"product_id": id, "quantity": qty})).collect();
        let request = self
            .http
            .post(format!("{}/orders", self.orders))
            .bearer_auth(token)
            .header("Idempotency-Key", Uuid::new_v4().to_string())
            .json(&json!({ "items": items }));
        match self.call("place_order", request, &[201, 409]).await? {
            (201, body) => body["id"].as_str().and_then(|id| id.parse().ok()).map(Placed::Order),
            _ => Some(Placed::SoldOut),
        }
    }

    /// Pays `order` with `card`.
    pub async fn pay(&self, token: &str, order: Uuid, card: &str) -> Option<Paid> {
        let body = json!({"card": {"number": card, "exp_month": 12, "exp_year": 2035, "cvc": "123"}});
        let request = self
            .http
            .post(format!("{}/orders/{order}/pay", self.orders))
            .bearer_auth(token)
            .header("Idempotency-Key", Uuid::new_v4().to_string())
            .json(&body);
        match self.call("pay", request, &[200, 402]).await? {
            (200, _) => Some(Paid::Paid),
            _ => Some(Paid::Declined),
        }
    }

    /// Cancels `order` (a paid one is refunded).
    pub async fn cancel(&self, token: &str, order: Uuid) -> Option<()> {
        let request = self.http.post(format!("{}/orders/{order}/cancel", self.orders)).bearer_auth(token);
        self.call("cancel_order", request, &[200]).await.map(|_| ())
    }

    /// The shopper's own orders.
    pub async fn my_orders(&self, token: &str) -> Option<()> {
        let request = self.http.get(format!("{}/orders", self.orders)).bearer_auth(token);
        self.call("my_orders", request, &[200]).await.map(|_| ())
    }

    /// Sets a product's stock (admin).
    pub async fn restock(&self, admin_token: &str, id: Uuid, stock: i64) -> Option<()> {
        let request = self
            .http
            .patch(format!("{}/products/{id}", self.products))
            .bearer_auth(admin_token)
            .json(&json!({"stock": stock}));
        // 404: deleted meanwhile by someone else; nothing to restock.
        self.call("admin_restock", request, &[200, 404]).await.map(|_| ())
    }

    /// Products with little stock left, for the admin (the lowest first, in-stock or not).
    pub async fn low_stock(&self) -> Option<Vec<Listed>> {
        let request = self.http.get(format!("{}/products", self.products)).query(&[("limit", "100")]);
        self.call("admin_stock_check", request, &[200]).await.map(|(_, body)| listed(&body))
    }
}

fn transport_kind(error: &reqwest::Error) -> &'static str {
    if error.is_timeout() {
        "timeout"
    } else if error.is_connect() {
        "connection refused"
    } else {
        "transport error"
    }
}

/// The products of a page of `GET /products`.
fn listed(page: &Value) -> Vec<Listed> {
    page["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|item| {
                    Some(Listed {
                        id: item["id"].as_str()?.parse().ok()?,
                        name: item["name"].as_str()?.to_owned(),
                        stock: item["stock"].as_i64()?,
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listings_keep_well_formed_items_only() {
        let id = Uuid::new_v4();
        let page = json!({"items": [
            {"id": id, "name": "Mug", "stock": 3},
            {"id": "not-a-uuid", "name": "Bad", "stock": 1},
            {"name": "No id", "stock": 1}
        ], "next_cursor": null});
        assert_eq!(listed(&page), vec![Listed { id, name: "Mug".into(), stock: 3 }]);
        assert!(listed(&json!({"unexpected": true})).is_empty());
    }
}
