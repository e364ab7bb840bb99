//! Products as the catalogue answers them: products produces them, the storefront shows them.

use chrono::{DateTime, Utc};
use poem_openapi::Object;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A product of the catalogue.
#[derive(Debug, Clone, Object, Serialize, Deserialize)]
pub struct Product {
    pub id: Uuid,
    /// Stock keeping unit.
    pub sku: String,
    pub name: String,
    pub description: String,
    /// Unit price in integer minor units.
    pub price: i64,
    /// ISO 4217 currency code.
    pub currency: String,
    /// Units available for sale now (stock held by pending orders is not included).
    pub stock: i32,
    /// Category slug.
    pub category: String,
    /// Picture: an `http(s)://` URL or a path on the storefront's origin; null when none.
    #[oai(nullable)]
    pub image_url: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One page of search results.
#[derive(Debug, Clone, Object, Serialize, Deserialize)]
pub struct ProductPage {
    pub items: Vec<Product>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    #[oai(nullable)]
    pub next_cursor: Option<String>,
}
