//! One shopper's visit: the mix of what people do in a shop.
//!
//! With a storefront, each page a visitor reads through the API is also fetched as the
//! storefront's HTML page, so the storefront's server spans and its calls to the services show
//! up in traces too; buying goes through the APIs, whose answers are easier to classify.
//!
//! Most visitors only look: they browse, search (one search in five with a typo) and open a
//! few product pages. About a third buy: a returning customer logs in, a new one registers
//! first; they order one or two products, pay (one in seven tries a card that is declined,
//! then a good one, as people do), sometimes cancel (and are refunded), and look at their
//! orders. A step that meets an unexpected answer ends the visit.

use std::sync::Mutex;

use crate::{
    catalogue::{Catalogue, with_typo},
    shop::{DECLINED_CARD, GOOD_CARD, Paid, Placed, Shop},
};

/// Share of visitors who buy.
pub const BUYER_SHARE: f64 = 0.35;
/// Share of buyers who try a declined card first.
pub const DECLINED_FIRST_SHARE: f64 = 0.15;
/// Share of paid orders that are cancelled.
pub const CANCEL_SHARE: f64 = 0.10;
/// Share of searches typed with a typo.
pub const TYPO_SHARE: f64 = 0.20;

const SORTS: [&str; 4] = ["newest", "price_asc", "price_desc", "name"];

/// Accounts opened during the run, so later buyers can be returning customers.
#[derive(Debug, Default)]
pub struct Accounts {
    known: Mutex<Vec<(String, String)>>,
}

impl Accounts {
    fn remember(&self, email: String, password: String) {
        self.known.lock().unwrap_or_else(|p| p.into_inner()).push((email, password));
    }

    fn any(&self, rng: &mut fastrand::Rng) -> Option<(String, String)> {
        let known = self.known.lock().unwrap_or_else(|p| p.into_inner());
        if known.is_empty() { None } else { Some(known[rng.usize(..known.len())].clone()) }
    }
}

/// Runs one visit to its end.
pub async fn visit(shop: &Shop, catalogue: &Catalogue, accounts: &Accounts, mut rng: fastrand::Rng) -> Option<()> {
    shop.storefront_home().await?;
    let sort = SORTS[rng.usize(..SORTS.len())];
    catalogue.learn(&shop.browse(sort).await?);
    if rng.f64() < 0.7
        && let Some(word) = catalogue.search_word(&mut rng)
    {
        let typed = if rng.f64() < TYPO_SHARE { with_typo(&word, &mut rng) } else { word };
        catalogue.learn(&shop.search(&typed).await?);
        shop.storefront_search(&typed).await?;
    }
    let pages = rng.usize(1..=3);
    for product in catalogue.pick(&mut rng, pages, false) {
        shop.view(product.id).await?;
        shop.storefront_product(product.id).await?;
    }
    if rng.f64() >= BUYER_SHARE {
        return Some(());
    }
    buy(shop, catalogue, accounts, &mut rng).await
}

async fn buy(shop: &Shop, catalogue: &Catalogue, accounts: &Accounts, rng: &mut fastrand::Rng) -> Option<()> {
    let token = match accounts.any(rng).filter(|_| rng.f64() < 0.6) {
        Some((email, password)) => shop.login(&email, &password).await?,
        None => {
            let email = format!("shopper-{}@loadgen.example", uuid::Uuid::new_v4().simple());
            let password = format!("loadgen-{}", uuid::Uuid::new_v4().simple());
            shop.register(&email, &password, "Load Shopper").await?;
            let token = shop.login(&email, &password).await?;
            accounts.remember(email, password);
            token
        }
    };
    let lines = rng.usize(1..=2);
    let items: Vec<_> =
        catalogue.pick(rng, lines, true).into_iter().map(|p| (p.id, if rng.f64() < 0.2 { 2 } else { 1 })).collect();
    if items.is_empty() {
        return Some(());
    }
    let Placed::Order(order) = shop.place_order(&token, &items).await? else {
        return Some(()); // Sold out meanwhile: the shopper leaves.
    };
    if rng.f64() < DECLINED_FIRST_SHARE {
        shop.pay(&token, order, DECLINED_CARD).await?;
    }
    if shop.pay(&token, order, GOOD_CARD).await? == Paid::Paid && rng.f64() < CANCEL_SHARE {
        shop.cancel(&token, order).await?;
    }
    shop.my_orders(&token).await
}
