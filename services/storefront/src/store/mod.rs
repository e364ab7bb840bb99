//! SQL against the storefront's own database: sessions and carts.

pub mod carts;
pub mod sessions;
