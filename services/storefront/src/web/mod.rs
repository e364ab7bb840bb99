//! The pages: routes, shared state, and the middleware every page passes through
//! ([`session::SessionLayer`] outside the server span, [`csrf::CsrfGuard`] inside it).

pub mod account;
pub mod address;
pub mod admin;
pub mod admin_emails;
pub mod admin_orders;
pub mod assets;
pub mod cart;
pub mod catalogue;
pub mod checkout;
pub mod csrf;
pub mod delivery;
pub mod forms;
pub mod orders;
pub mod page;
pub mod pay_problem;
pub mod pending;
pub mod renewal;
pub mod seal;
pub mod session;

use std::{sync::Arc, time::Instant};

use poem::{Endpoint, EndpointExt, Route, get, post};
use shopkit::auth::TokenVerifier;
use sqlx::PgPool;
use tokio::sync::Mutex;

use crate::clients::Backends;

/// The cached category list and when it was fetched.
pub type CategoryCache = Arc<Mutex<Option<(Instant, Vec<String>)>>>;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The storefront's own database (sessions, carts).
    pub pool: PgPool,
    /// Products, users and orders.
    pub backends: Backends,
    /// Checks the tokens users issues at log-in.
    pub verifier: Arc<TokenVerifier>,
    /// The catalogue's categories, refreshed at most once a minute (the products API has no
    /// category list; this saves a search per page view).
    pub categories: CategoryCache,
    /// Mark session cookies `Secure` (behind TLS).
    pub secure_cookies: bool,
    /// Proxies in front that append to `X-Forwarded-For` (see [`address::shopper_address`]).
    pub trusted_proxy_hops: usize,
}

impl AppState {
    /// State over the given parts.
    pub fn new(pool: PgPool, backends: Backends, verifier: TokenVerifier, secure_cookies: bool) -> Self {
        Self {
            pool,
            backends,
            verifier: Arc::new(verifier),
            categories: Arc::new(Mutex::new(None)),
            secure_cookies,
            trusted_proxy_hops: 0,
        }
    }
}

/// Every page and form of the shop.
pub fn routes(state: AppState) -> impl Endpoint + 'static {
    Route::new()
        .at("/", get(catalogue::home))
        .at("/products/:id", get(catalogue::product_page))
        .at("/cart", get(cart::show))
        .at("/cart/items", post(cart::add))
        .at("/cart/items/:id", post(cart::update))
        .at("/cart/items/:id/remove", post(cart::remove))
        .at("/checkout", post(checkout::checkout))
        .at("/checkout/delivery", get(delivery::delivery_page).post(delivery::save_delivery))
        .at("/checkout/review", get(delivery::review_page))
        .at("/orders", get(orders::list))
        .at("/orders/:id", get(orders::detail))
        .at("/orders/:id/pay", get(checkout::pay_page).post(checkout::pay))
        .at("/orders/:id/cancel", post(orders::cancel))
        .at("/register", get(account::register_page).post(account::register))
        .at("/login", get(account::login_page).post(account::login))
        .at("/logout", post(account::logout))
        .at("/account", get(account::profile_page).post(account::update_profile))
        .at("/account/delete", post(account::delete_account))
        .at("/admin/products", get(admin::products))
        .at("/admin/products/new", get(admin::new_product_page).post(admin::create_product))
        .at("/admin/products/:id", get(admin::edit_product_page).post(admin::update_product))
        .at("/admin/products/:id/delete", get(admin::confirm_delete_product).post(admin::delete_product))
        .at("/admin/emails", get(admin_emails::emails))
        .at("/admin/orders", get(admin_orders::orders))
        .at("/admin/orders/:id", get(admin_orders::order_page))
        .at("/admin/orders/:id/cancel", get(admin_orders::confirm_cancel).post(admin_orders::cancel))
        .at("/admin/orders/:id/status", post(admin_orders::set_status))
        .at("/static/style.css", get(assets::stylesheet))
        .at("/favicon.ico", get(assets::favicon))
        .at("/images/catalogue/:file", get(assets::catalogue_image))
        .catch_all_error(page::error_page)
        .with(csrf::CsrfGuard)
        .data(state)
}
