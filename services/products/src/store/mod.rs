//! SQL for the products database. Each function takes a connection or transaction and is
//! instrumented, so a slow query shows up under the request that ran it.

pub mod products;
pub mod relevance;
pub mod reservations;

/// Name of the unique index that makes a live product's SKU unique.
pub const SKU_UNIQUE_INDEX: &str = "products_sku_live";
