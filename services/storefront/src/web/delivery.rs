//! The checkout's delivery step and review page. Cart -> `/checkout/delivery` (address and
//! method; the entry is kept with the session) -> `/checkout/review` (items, shipping, VAT,
//! total, where it goes) -> `POST /checkout` places the order with that delivery. Prices and
//! rates come from orders (`/delivery/options`); orders prices the shipping again when the order
//! is placed, so the review cannot promise what the order will not charge.

use askama::Template;
use poem::{
    Response, handler,
    web::{Data, Form},
};
use serde::Deserialize;
use shopkit::client::ClientError;
use shopwire::{AddressBody, CountryOption, DeliveryBody, DeliveryOptions, MethodOption, Product};

use super::{
    AppState,
    cart::{priced_lines, totals_by_currency},
    page::{Layout, PageError, redirect, rejection_detail, render, require_user},
    session::Session,
};
use crate::{
    domain::money::format_money,
    store::{carts::CartLine, sessions},
};

/// The delivery form as posted.
#[derive(Debug, Default, Deserialize)]
pub struct DeliveryForm {
    #[serde(default)]
    pub recipient: String,
    #[serde(default)]
    pub line1: String,
    #[serde(default)]
    pub line2: String,
    #[serde(default)]
    pub postal_code: String,
    #[serde(default)]
    pub city: String,
    #[serde(default)]
    pub country: String,
    #[serde(default)]
    pub method: String,
}

/// The delivery the session holds, if any.
pub async fn draft(state: &AppState, session: &Session) -> Result<Option<DeliveryBody>, PageError> {
    let mut conn = state.pool.acquire().await?;
    let stored = sessions::delivery(&mut conn, &session.id_hash).await?;
    Ok(stored.and_then(|json| serde_json::from_str(&json).ok()))
}

/// The countries and methods orders ships to for prices in `currency`.
async fn options(state: &AppState, currency: &str) -> Result<Vec<CountryOption>, PageError> {
    let path =
        format!("/delivery/options?{}", serde_urlencoded::to_string([("currency", currency)]).unwrap_or_default());
    let options: DeliveryOptions = state.backends.orders.get(&path).await?;
    Ok(options.countries)
}

/// The cart's lines and its one currency; `None` when the cart is empty or mixes currencies
/// (the cart page explains those).
async fn cart_in_one_currency(
    state: &AppState,
    session: &Session,
) -> Result<Option<(Vec<(CartLine, Product)>, String)>, PageError> {
    let lines = priced_lines(state, &state.backends, &session.cart_owner()).await?;
    let totals = totals_by_currency(&lines);
    let currency = lines.first().map(|(_, p)| p.currency.clone());
    match currency {
        Some(currency) if totals.len() == 1 => Ok(Some((lines, currency))),
        _ => Ok(None),
    }
}

/// A method as the form offers it.
pub struct MethodChoice {
    pub value: String,
    pub label: String,
    pub checked: bool,
}

fn method_label(method: &MethodOption, currency: &str) -> String {
    let name = if method.method == "express" { "Express" } else { "Standard" };
    let free = method.free_from.map(|from| format!(", free from {} of items", format_money(from, currency)));
    format!(
        "{name}: {}{}, {}-{} working days",
        format_money(method.price, currency),
        free.unwrap_or_default(),
        method.days_min,
        method.days_max
    )
}

/// The shopper's saved addresses (users' address book), most recently used first; none when
/// users cannot say now (the form still works).
async fn saved_addresses(state: &AppState, token: &shopkit::config::Secret<String>) -> Vec<AddressBody> {
    #[derive(Deserialize)]
    struct Saved {
        items: Vec<AddressBody>,
    }
    match state.backends.as_user(token).users.get::<Saved>("/users/me/addresses").await {
        Ok(saved) => saved.items,
        Err(err) => {
            tracing::warn!(error = %err, "saved addresses unavailable");
            Vec::new()
        }
    }
}

#[derive(Template)]
#[template(path = "delivery.html")]
struct DeliveryPage {
    page: Layout,
    /// Saved addresses, each offered with a "Deliver here" button.
    saved: Vec<AddressBody>,
    /// The method those buttons keep.
    method: String,
    address: AddressBody,
    /// `(code, name, selected)`.
    countries: Vec<(String, String, bool)>,
    methods: Vec<MethodChoice>,
    error: Option<String>,
}

/// `GET /checkout/delivery`: where and how to deliver, prefilled with what the shopper entered.
#[handler]
pub async fn delivery_page(Data(state): Data<&AppState>, Data(session): Data<&Session>) -> Result<Response, PageError> {
    let user = require_user(session, "/checkout/delivery")?;
    let Some((_, currency)) = cart_in_one_currency(state, session).await? else { return Ok(redirect("/cart")) };
    let countries = options(state, &currency).await?;
    let draft = draft(state, session).await?;
    let saved = saved_addresses(state, &user.token).await;
    // The form starts from this checkout's entry, else the last address used, else the name.
    let (address, method) = match draft {
        Some(d) => (d.address, d.method),
        None => match saved.first() {
            Some(last) => (last.clone(), "standard".to_owned()),
            None => (AddressBody { recipient: user.name.clone(), ..AddressBody::default() }, "standard".to_owned()),
        },
    };
    let selected = if address.country.is_empty() { "FR".to_owned() } else { address.country.clone() };
    let shown = countries.iter().find(|c| c.country == selected).or(countries.first());
    let methods = shown
        .map(|c| {
            c.methods
                .iter()
                .map(|m| MethodChoice {
                    value: m.method.clone(),
                    label: method_label(m, &currency),
                    checked: m.method == method,
                })
                .collect()
        })
        .unwrap_or_default();
    let error = countries.is_empty().then(|| format!("The shop does not deliver orders priced in {currency}."));
    let saved = saved.into_iter().filter(|a| countries.iter().any(|c| c.country == a.country)).collect();
    render(&DeliveryPage {
        page: Layout::new(state, session, "Delivery").await?,
        saved,
        method: method.clone(),
        countries: countries.iter().map(|c| (c.country.clone(), c.name.clone(), c.country == selected)).collect(),
        address,
        methods,
        error,
    })
}

/// `POST /checkout/delivery`: keeps the entry with the session and shows the review. The
/// fields are checked by orders when the order is placed (its rules are the ones that count);
/// here only what the review needs: a country orders ships to.
#[handler]
pub async fn save_delivery(
    Data(state): Data<&AppState>,
    Data(session): Data<&Session>,
    Form(form): Form<DeliveryForm>,
) -> Result<Response, PageError> {
    let user = require_user(session, "/checkout/delivery")?;
    let body = DeliveryBody {
        address: AddressBody {
            recipient: form.recipient.trim().to_owned(),
            line1: form.line1.trim().to_owned(),
            line2: form.line2.trim().to_owned(),
            postal_code: form.postal_code.trim().to_owned(),
            city: form.city.trim().to_owned(),
            country: form.country.trim().to_ascii_uppercase(),
        },
        method: if form.method == "express" { "express".into() } else { "standard".into() },
    };
    let json = serde_json::to_string(&body).map_err(|e| PageError::Internal(e.to_string()))?;
    let mut conn = state.pool.acquire().await?;
    sessions::set_delivery(&mut conn, &session.id_hash, &json).await?;
    let missing = [&body.address.recipient, &body.address.line1, &body.address.postal_code, &body.address.city]
        .iter()
        .any(|field| field.is_empty());
    if missing {
        sessions::set_flash(&mut conn, &session.id_hash, "Please fill in the name, street, postal code and city.")
            .await?;
        return Ok(redirect("/checkout/delivery"));
    }
    // Into the shopper's address book, whose rules are the ones orders applies: a refusal
    // here is said on the form now rather than when the order is placed.
    let saved: Result<serde_json::Value, ClientError> =
        state.backends.as_user(&user.token).users.post("/users/me/addresses", &body.address, None).await;
    match saved {
        Ok(_) => {}
        Err(err @ ClientError::Rejected { .. }) => {
            let reason = rejection_detail(&err).unwrap_or_else(|| "the address was refused".to_owned());
            sessions::set_flash(&mut conn, &session.id_hash, &format!("Please check the address: {reason}")).await?;
            return Ok(redirect("/checkout/delivery"));
        }
        Err(err) => tracing::warn!(error = %err, "the address was not saved to the address book"),
    }
    Ok(redirect("/checkout/review"))
}

/// What the review shows: the figures orders will charge.
pub struct Summary {
    pub subtotal: String,
    pub shipping: String,
    pub total: String,
    pub vat: String,
    pub method: String,
    pub country_name: String,
}

/// The order's figures for `delivery` to a country of `countries`; `None` when orders does not
/// ship there that way.
fn summarize(countries: &[CountryOption], delivery: &DeliveryBody, subtotal: i64, currency: &str) -> Option<Summary> {
    let country = countries.iter().find(|c| c.country == delivery.address.country)?;
    let method = country.methods.iter().find(|m| m.method == delivery.method)?;
    let shipping = if method.free_from.is_some_and(|from| subtotal >= from) { 0 } else { method.price };
    let total = subtotal.saturating_add(shipping);
    let rate = i128::from(country.vat_rate_basis_points);
    let vat = (i128::from(total) * rate * 2 + (10_000 + rate)) / (2 * (10_000 + rate));
    let percent = f64::from(country.vat_rate_basis_points) / 100.0;
    Some(Summary {
        subtotal: format_money(subtotal, currency),
        shipping: if shipping == 0 { "Free".to_owned() } else { format_money(shipping, currency) },
        total: format_money(total, currency),
        vat: format!(
            "{} ({percent}% {} VAT)",
            format_money(i64::try_from(vat).unwrap_or_default(), currency),
            country.name
        ),
        method: method_label(method, currency),
        country_name: country.name.clone(),
    })
}

#[derive(Template)]
#[template(path = "review.html")]
struct ReviewPage {
    page: Layout,
    /// Name, quantity, unit price, line total.
    lines: Vec<(String, i32, String, String)>,
    address: AddressBody,
    summary: Summary,
}

/// `GET /checkout/review`: everything the order will be, before it is placed.
#[handler]
pub async fn review_page(Data(state): Data<&AppState>, Data(session): Data<&Session>) -> Result<Response, PageError> {
    require_user(session, "/checkout/review")?;
    let Some((lines, currency)) = cart_in_one_currency(state, session).await? else { return Ok(redirect("/cart")) };
    let Some(delivery) = draft(state, session).await? else { return Ok(redirect("/checkout/delivery")) };
    let countries = options(state, &currency).await?;
    let subtotal: i64 =
        lines.iter().map(|(l, p)| p.price.saturating_mul(i64::from(l.quantity))).fold(0, i64::saturating_add);
    let Some(summary) = summarize(&countries, &delivery, subtotal, &currency) else {
        let mut conn = state.pool.acquire().await?;
        let notice = "The shop does not deliver there that way: choose another country or method.";
        sessions::set_flash(&mut conn, &session.id_hash, notice).await?;
        return Ok(redirect("/checkout/delivery"));
    };
    let lines = lines
        .iter()
        .map(|(l, p)| {
            let line_total = format_money(p.price.saturating_mul(i64::from(l.quantity)), &currency);
            (p.name.clone(), l.quantity, format_money(p.price, &currency), line_total)
        })
        .collect();
    render(&ReviewPage {
        page: Layout::new(state, session, "Review your order").await?,
        lines,
        address: delivery.address,
        summary,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn france() -> Vec<CountryOption> {
        let method = |method: &str, price, free_from| MethodOption {
            method: method.into(),
            price,
            free_from,
            days_min: 2,
            days_max: 4,
        };
        vec![CountryOption {
            country: "FR".into(),
            name: "France".into(),
            vat_rate_basis_points: 2000,
            methods: vec![method("standard", 490, Some(5000)), method("express", 1290, None)],
        }]
    }

    fn to(country: &str, method: &str) -> DeliveryBody {
        DeliveryBody {
            address: AddressBody { country: country.into(), ..AddressBody::default() },
            method: method.into(),
        }
    }

    #[test]
    fn the_review_adds_shipping_and_states_the_vat_as_orders_will() {
        let s = summarize(&france(), &to("FR", "standard"), 4999, "EUR").expect("served");
        assert_eq!((s.shipping.as_str(), s.total.as_str()), ("€4.90", "€54.89"));
        assert_eq!(s.vat, "€9.15 (20% France VAT)");
        let free = summarize(&france(), &to("FR", "standard"), 5000, "EUR").expect("served");
        assert_eq!((free.shipping.as_str(), free.total.as_str()), ("Free", "€50.00"));
        assert_eq!(summarize(&france(), &to("FR", "express"), 5000, "EUR").expect("served").total, "€62.90");
        assert!(summarize(&france(), &to("US", "standard"), 5000, "EUR").is_none());
    }
}
