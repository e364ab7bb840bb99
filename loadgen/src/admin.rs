//! The shop owner: every few seconds, restocks what runs low, so a long run keeps selling.

use std::time::{Duration, Instant};

use crate::shop::Shop;

/// How often the admin looks at the stock.
pub const CHECK_EVERY: Duration = Duration::from_secs(5);
/// Stock at or below which a product is restocked.
pub const LOW_STOCK: i64 = 5;
/// What a restock sets the stock to.
pub const RESTOCK_TO: i64 = 60;
/// Access tokens last 15 minutes by default: log in again well before.
const TOKEN_REFRESH: Duration = Duration::from_secs(600);

/// Restocks until the task is dropped.
pub async fn restock_forever(shop: Shop, email: String, password: String) {
    let mut session: Option<(String, Instant)> = None;
    let mut ticks = tokio::time::interval(CHECK_EVERY);
    loop {
        ticks.tick().await;
        if session.as_ref().is_none_or(|(_, at)| at.elapsed() > TOKEN_REFRESH) {
            session = shop.login(&email, &password).await.map(|token| (token, Instant::now()));
        }
        let Some((token, _)) = &session else { continue };
        let Some(products) = shop.low_stock().await else { continue };
        for product in products.into_iter().filter(|p| p.stock <= LOW_STOCK) {
            shop.restock(token, product.id, RESTOCK_TO).await;
        }
    }
}
