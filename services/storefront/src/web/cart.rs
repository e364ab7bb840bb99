//! The cart: show, add, change quantity, remove. Prices and stock are the catalogue's current
//! ones, fetched when the cart is shown.

use askama::Template;
use poem::{
    Response, handler,
    web::{Data, Form, Path},
};
use uuid::Uuid;

use super::{
    AppState,
    checkout::Hold,
    forms::{AddToCart, SetQuantity},
    orders::short_id,
    page::{Layout, PageError, redirect, render},
    pending::{self, Checkout},
    session::Session,
};
use crate::{
    clients::{Backends, Product},
    domain::{CartQuantity, images::image_src, money::format_money},
    store::{
        carts::{self, CartLine, CartOwner},
        sessions,
    },
};

/// A cart line with its product.
pub struct LineView {
    pub product_id: Uuid,
    pub name: String,
    pub image: String,
    pub quantity: i32,
    /// Unit price, formatted.
    pub unit_price: String,
    /// Line total, formatted.
    pub line_total: String,
    /// A warning when the catalogue has fewer units than the line.
    pub warning: Option<String>,
}

/// The cart's lines with their products, for the cart page and checkout. Lines whose product
/// is gone from the catalogue are dropped from the cart.
pub async fn priced_lines(
    state: &AppState,
    backends: &Backends,
    owner: &CartOwner,
) -> Result<Vec<(CartLine, Product)>, PageError> {
    let mut conn = state.pool.acquire().await?;
    let lines = carts::lines(&mut conn, owner).await?;
    let products = futures::future::join_all(lines.iter().map(|l| backends.product(l.product_id))).await;
    let mut priced = Vec::with_capacity(lines.len());
    for (line, product) in lines.into_iter().zip(products) {
        match product? {
            Some(product) => priced.push((line, product)),
            None => carts::remove(&mut conn, owner, line.product_id).await?,
        }
    }
    Ok(priced)
}

/// One total per currency of the lines, in the order the currencies first appear.
pub fn totals_by_currency(lines: &[(CartLine, Product)]) -> Vec<(String, String)> {
    let mut sums: Vec<(String, i64)> = Vec::new();
    for (line, product) in lines {
        let amount = product.price.saturating_mul(i64::from(line.quantity));
        match sums.iter_mut().find(|(currency, _)| *currency == product.currency) {
            Some((_, sum)) => *sum = sum.saturating_add(amount),
            None => sums.push((product.currency.clone(), amount)),
        }
    }
    sums.into_iter().map(|(currency, sum)| (currency.clone(), format_money(sum, &currency))).collect()
}

/// Why the cart cannot be checked out as it is, in the shopper's words; `None` when it can.
fn checkout_blocked(lines: &[LineView], totals: &[(String, String)]) -> Option<String> {
    if lines.iter().any(|l| l.warning.is_some()) {
        return Some("Some items are not available in the quantity you chose: see the notes above.".to_owned());
    }
    if totals.len() > 1 {
        let currencies: Vec<&str> = totals.iter().map(|(c, _)| c.as_str()).collect();
        return Some(format!(
            "Your cart holds prices in {}. An order is paid in one currency: remove the items priced in the \
             others to check out, then order them separately.",
            currencies.join(" and ")
        ));
    }
    None
}

#[derive(Template)]
#[template(path = "cart.html")]
struct CartPage {
    page: Layout,
    lines: Vec<LineView>,
    /// One total per currency (one, in the normal case).
    totals: Vec<(String, String)>,
    logged_in: bool,
    /// Why the checkout button is off, said next to it.
    blocked: Option<String>,
    /// The order the last checkout placed, waiting for payment.
    waiting: Option<WaitingOrder>,
    /// The short id of an order of this cart paid since the last look (its lines left the cart).
    just_paid: Option<String>,
}

/// The order waiting for payment, as the cart page mentions it.
struct WaitingOrder {
    id: Uuid,
    short_id: String,
    total: String,
    held: Option<super::checkout::Hold>,
}

/// `GET /cart`.
#[handler]
pub async fn show(Data(state): Data<&AppState>, Data(session): Data<&Session>) -> Result<Response, PageError> {
    let checkout = match &session.user {
        Some(user) => pending::look(state, &state.backends.as_user(&user.token), user.id).await?,
        None => Checkout::Nothing,
    };
    // Units the waiting order holds count as available: a new checkout cancels that order first.
    let held = |product: Uuid| -> i32 {
        match &checkout {
            Checkout::Waiting(order) => {
                order.items.iter().filter(|line| line.product_id == product).map(|line| line.quantity).sum()
            }
            _ => 0,
        }
    };
    let priced = priced_lines(state, &state.backends, &session.cart_owner()).await?;
    let totals = totals_by_currency(&priced);
    let lines: Vec<LineView> = priced
        .iter()
        .map(|(line, p)| LineView {
            product_id: p.id,
            name: p.name.clone(),
            image: image_src(p.image_url.as_deref(), &p.category),
            quantity: line.quantity,
            unit_price: format_money(p.price, &p.currency),
            line_total: format_money(p.price.saturating_mul(i64::from(line.quantity)), &p.currency),
            warning: match p.stock.saturating_add(held(p.id)) {
                0 => Some("Out of stock: remove it to check out.".to_owned()),
                n if n < line.quantity => Some(format!("Only {n} left: lower the quantity to check out.")),
                _ => None,
            },
        })
        .collect();
    let blocked = checkout_blocked(&lines, &totals);
    let (waiting, just_paid) = match checkout {
        Checkout::Waiting(order) => {
            let view = WaitingOrder {
                id: order.id,
                short_id: short_id(order.id),
                total: format_money(order.total, &order.currency),
                held: order.expires_at.map(|at| Hold::until(at, chrono::Utc::now())),
            };
            (Some(view), None)
        }
        Checkout::JustPaid(order) => (None, Some(short_id(order.id))),
        Checkout::Nothing => (None, None),
    };
    render(&CartPage {
        page: Layout::new(state, session, "Your cart").await?,
        logged_in: session.user.is_some(),
        lines,
        totals,
        blocked,
        waiting,
        just_paid,
    })
}

/// `POST /cart/items`: add a product, then back to its page with a notice.
#[handler]
pub async fn add(
    Data(state): Data<&AppState>,
    Data(session): Data<&Session>,
    Form(form): Form<AddToCart>,
) -> Result<Response, PageError> {
    let id = Uuid::parse_str(form.product_id.trim()).map_err(|_| PageError::NotFound)?;
    let product = state.backends.product(id).await?.ok_or(PageError::NotFound)?;
    let back = format!("/products/{id}");
    let mut conn = state.pool.acquire().await?;
    let quantity = match form.quantity.trim().parse::<i64>().map_err(|_| String::new()).and_then(CartQuantity::parse) {
        Ok(q) if product.stock > 0 => q,
        Ok(_) => {
            sessions::set_flash(&mut conn, &session.id_hash, "Sorry, this product is out of stock.").await?;
            return Ok(redirect(&back));
        }
        Err(_) => {
            sessions::set_flash(&mut conn, &session.id_hash, "Choose a quantity between 1 and 99.").await?;
            return Ok(redirect(&back));
        }
    };
    carts::add(&mut conn, &session.cart_owner(), id, quantity.units()).await?;
    let notice = format!("Added {} × {} to your cart.", quantity.units(), product.name);
    sessions::set_flash(&mut conn, &session.id_hash, &notice).await?;
    Ok(redirect(&back))
}

/// `POST /cart/items/{id}`: set a line's quantity (0 removes it).
#[handler]
pub async fn update(
    Data(state): Data<&AppState>,
    Data(session): Data<&Session>,
    Path(id): Path<String>,
    Form(form): Form<SetQuantity>,
) -> Result<Response, PageError> {
    let id = Uuid::parse_str(&id).map_err(|_| PageError::NotFound)?;
    let mut conn = state.pool.acquire().await?;
    let owner = session.cart_owner();
    match form.quantity.trim().parse::<i64>() {
        Ok(0) => carts::remove(&mut conn, &owner, id).await?,
        Ok(units) => match CartQuantity::parse(units) {
            Ok(q) => carts::set_quantity(&mut conn, &owner, id, q.units()).await?,
            Err(message) => sessions::set_flash(&mut conn, &session.id_hash, &message).await?,
        },
        Err(_) => sessions::set_flash(&mut conn, &session.id_hash, "Quantities are whole numbers.").await?,
    }
    Ok(redirect("/cart"))
}

/// `POST /cart/items/{id}/remove`.
#[handler]
pub async fn remove(
    Data(state): Data<&AppState>,
    Data(session): Data<&Session>,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let id = Uuid::parse_str(&id).map_err(|_| PageError::NotFound)?;
    let mut conn = state.pool.acquire().await?;
    carts::remove(&mut conn, &session.cart_owner(), id).await?;
    Ok(redirect("/cart"))
}
