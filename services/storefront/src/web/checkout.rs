//! Checkout and payment. Checkout places the order for the cart and starts a purchase trace
//! that the pay pages continue (see [`super::session`]), so cart -> checkout -> pay is one trace.
//! The cart keeps its lines until the order is paid ([`super::pending`]).

use askama::Template;
use poem::{
    Response, handler,
    http::StatusCode,
    web::{Data, Form, Path, Query},
};
use shopkit::client::ClientError;
use uuid::Uuid;

use super::{
    AppState,
    cart::priced_lines,
    forms::CardForm,
    orders::{OrderView, fetch_order},
    page::{Layout, PageError, redirect, rejection_detail, render_with},
    pay_problem::PayProblem,
    pending,
    session::Session,
};
use crate::{
    clients::{CardBody, ItemBody, Order, Status},
    store::{carts, sessions},
};

/// The test cards the payments simulator documents, shown on the pay page.
pub const TEST_CARDS: [(&str, &str); 4] = [
    ("4242 4242 4242 4242", "succeeds"),
    ("4000 0000 0000 0002", "declined"),
    ("4000 0000 0000 9995", "declined: insufficient funds"),
    ("4000 0000 0000 0069", "declined: expired card"),
];

/// `POST /checkout`: places the order for the cart's contents and opens the pay page. An order
/// an earlier checkout left waiting for payment is cancelled first: the cart is what is bought.
#[handler]
pub async fn checkout(Data(state): Data<&AppState>, Data(session): Data<&Session>) -> Result<Response, PageError> {
    let Some(user) = session.user.as_ref() else {
        let mut conn = state.pool.acquire().await?;
        sessions::set_flash(&mut conn, &session.id_hash, "Log in or register to check out: your cart is kept.").await?;
        return Err(PageError::LoginRequired { next: "/cart".into() });
    };
    let backends = state.backends.as_user(&user.token);
    if !pending::make_way(state, &backends, user.id).await? {
        let mut conn = state.pool.acquire().await?;
        let notice = "Your earlier order for this cart was paid meanwhile, so its items left the cart. \
                      Check the cart before you check out again.";
        sessions::set_flash(&mut conn, &session.id_hash, notice).await?;
        return Ok(redirect("/cart"));
    }
    let owner = session.cart_owner();
    let lines = priced_lines(state, &backends, &owner).await?;
    if lines.is_empty() {
        return Ok(redirect("/cart"));
    }
    // Where it goes comes first: without a delivery the shopper goes to the delivery step.
    let Some(delivery) = super::delivery::draft(state, session).await? else {
        return Ok(redirect("/checkout/delivery"));
    };
    let items: Vec<ItemBody> =
        lines.iter().map(|(l, _)| ItemBody { product_id: l.product_id, quantity: i64::from(l.quantity) }).collect();
    let key = format!("storefront-checkout-{}", Uuid::new_v4());
    let body = serde_json::json!({ "items": items, "delivery": delivery });
    let placed: Result<Order, ClientError> = backends.orders.post("/orders", &body, Some(&key)).await;
    let mut conn = state.pool.acquire().await?;
    match placed {
        Ok(order) => {
            carts::set_checkout_order(&mut conn, user.id, Some(order.id)).await?;
            sessions::set_purchase_trace(
                &mut conn,
                &session.id_hash,
                shopkit::telemetry::propagation::current_traceparent().as_deref(),
            )
            .await?;
            tracing::info!(order_id = %order.id, "order placed from the storefront");
            Ok(redirect(&format!("/orders/{}/pay", order.id)))
        }
        Err(err) => match rejection_detail(&err) {
            Some(reason) => {
                sessions::set_flash(&mut conn, &session.id_hash, &format!("Could not place the order: {reason}"))
                    .await?;
                // A refused address goes back to the delivery step, anything else to the cart.
                let delivery_refused = matches!(&err, ClientError::Rejected { problem: Some(p), .. }
                    if p.errors.iter().flatten().any(|e| e.field.starts_with("delivery.")));
                Ok(redirect(if delivery_refused { "/checkout/delivery" } else { "/cart" }))
            }
            None => Err(err.into()),
        },
    }
}

#[derive(Template)]
#[template(path = "pay.html")]
struct PayPage {
    page: Layout,
    order: OrderView,
    /// How long the items stay reserved, when the order says.
    held: Option<Hold>,
    error: Option<String>,
    attempt: String,
    test_cards: [(&'static str, &'static str); 4],
}

async fn pay_page_for(
    state: &AppState,
    session: &Session,
    order: &Order,
    error: Option<String>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let template = PayPage {
        page: Layout::new(state, session, "Payment").await?,
        order: OrderView::from(order),
        held: order.expires_at.map(|at| Hold::until(at, chrono::Utc::now())),
        error,
        attempt: Uuid::new_v4().to_string(),
        test_cards: TEST_CARDS,
    };
    render_with(status, &template)
}

/// How long a pending order's items stay reserved: the orders service cancels an unpaid order
/// at `expires_at` and gives its stock back, so the pay page says when.
pub(super) struct Hold {
    /// Whole minutes left (0 in the last minute).
    pub minutes: i64,
    /// The deadline as `HH:MM UTC`.
    pub until: String,
    /// The deadline, RFC 3339, for the `<time>` element.
    pub datetime: String,
}

impl Hold {
    pub(super) fn until(at: chrono::DateTime<chrono::Utc>, now: chrono::DateTime<chrono::Utc>) -> Self {
        Self {
            minutes: (at - now).num_minutes().max(0),
            until: at.format("%H:%M UTC").to_string(),
            datetime: at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        }
    }
}

/// The pay page's query: why the last attempt failed, as a [`PayProblem`] code.
#[derive(Debug, serde::Deserialize)]
pub struct PayQuery {
    problem: Option<String>,
}

/// `GET /orders/{id}/pay`: the card form of a pending order, with the reason the last attempt
/// failed when the redirect after it says so.
#[handler]
pub async fn pay_page(
    Data(state): Data<&AppState>,
    Data(session): Data<&Session>,
    Path(id): Path<String>,
    Query(query): Query<PayQuery>,
) -> Result<Response, PageError> {
    let order = fetch_order(state, session, &id, &format!("/orders/{id}/pay")).await?;
    if order.status != Status::Pending {
        return Ok(redirect(&format!("/orders/{}", order.id)));
    }
    let error = query.problem.as_deref().and_then(PayProblem::from_code).map(|p| p.message().to_owned());
    pay_page_for(state, session, &order, error, StatusCode::OK).await
}

/// The pay page again, saying why the attempt failed (post/redirect/get, see [`PayProblem`]).
fn pay_again(order_id: impl std::fmt::Display, problem: PayProblem) -> Response {
    redirect(&format!("/orders/{order_id}/pay?problem={}", problem.code()))
}

/// `MM/YY` or `MM/YYYY` -> (month, four-digit year).
fn parse_expiry(raw: &str) -> Option<(u32, i32)> {
    let (month, year) = raw.trim().split_once('/')?;
    let month: u32 = month.trim().parse().ok().filter(|m| (1..=12).contains(m))?;
    let year = year.trim();
    let year: i32 = match year.len() {
        2 => 2000 + year.parse::<i32>().ok()?,
        4 => year.parse().ok()?,
        _ => return None,
    };
    Some((month, year))
}

/// `POST /orders/{id}/pay`: charge the card. Every outcome is a redirect: to the order when
/// paid, back to the pay page with the reason when not (the order stays payable).
#[handler]
pub async fn pay(
    Data(state): Data<&AppState>,
    Data(session): Data<&Session>,
    Path(id): Path<String>,
    Form(form): Form<CardForm>,
) -> Result<Response, PageError> {
    let order = fetch_order(state, session, &id, &format!("/orders/{id}/pay")).await?;
    let Some(user) = session.user.as_ref() else { return Err(PageError::LoginRequired { next: "/orders".into() }) };
    let Some((exp_month, exp_year)) = parse_expiry(&form.expiry) else {
        return Ok(pay_again(order.id, PayProblem::ExpiryFormat));
    };
    let card = CardBody {
        number: form.number.chars().filter(|c| !c.is_whitespace() && *c != '-').collect(),
        exp_month,
        exp_year,
        cvc: form.cvc.trim().to_owned(),
    };
    let attempt = Uuid::parse_str(form.attempt.trim()).unwrap_or_else(|_| Uuid::new_v4());
    let key = format!("storefront-pay-{attempt}");
    let paid: Result<Order, ClientError> = state
        .backends
        .as_user(&user.token)
        .orders
        .post(&format!("/orders/{}/pay", order.id), &serde_json::json!({ "card": card }), Some(&key))
        .await;
    let mut conn = state.pool.acquire().await?;
    match paid {
        Ok(order) => {
            pending::settle(state, user.id, &order).await?;
            sessions::set_purchase_trace(&mut conn, &session.id_hash, None).await?;
            sessions::set_flash(&mut conn, &session.id_hash, "Thank you! Your payment was received.").await?;
            Ok(redirect(&format!("/orders/{}", order.id)))
        }
        Err(ClientError::Rejected { status, .. }) if status == 409 => {
            sessions::set_flash(&mut conn, &session.id_hash, "This order can no longer be paid.").await?;
            Ok(redirect(&format!("/orders/{}", order.id)))
        }
        Err(err) => match PayProblem::of(&err) {
            Some(problem) => {
                tracing::info!(order_id = %order.id, problem = problem.code(), "payment attempt refused");
                Ok(pay_again(order.id, problem))
            }
            None => Err(err.into()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::{Hold, parse_expiry};

    #[test]
    fn the_hold_counts_whole_minutes_left_and_never_below_zero() {
        let at = chrono::DateTime::parse_from_rfc3339("2026-12-04T10:32:00Z").expect("time").to_utc();
        let hold = Hold::until(at, at - chrono::Duration::seconds(14 * 60 + 50));
        assert_eq!(
            (hold.minutes, hold.until.as_str(), hold.datetime.as_str()),
            (14, "10:32 UTC", "2026-12-04T10:32:00Z")
        );
        assert_eq!(Hold::until(at, at + chrono::Duration::minutes(3)).minutes, 0);
    }

    #[test]
    fn expiry_dates_parse_as_shoppers_type_them() {
        let cases = [
            ("12/30", Some((12, 2030))),
            (" 01 / 2031 ", Some((1, 2031))),
            ("13/30", None),
            ("0/30", None),
            ("1230", None),
            ("12/3", None),
        ];
        for (raw, expected) in cases {
            assert_eq!(parse_expiry(raw), expected, "{raw}");
        }
    }
}
