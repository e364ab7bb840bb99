//! Staff order pages: the list (search by order number or customer e-mail, status filter,
//! numbered pages, the customer of each order), an order's detail, shipping, and cancelling
//! with a refund behind a confirmation page. Every change goes through the orders API with the
//! admin's own token, so orders decides what an admin may do.

use std::collections::HashMap;

use askama::Template;
use poem::{
    Response, handler,
    web::{Data, Form, Path, Query},
};
use serde::Deserialize;
use serde_json::{Value, json};
use shopkit::client::ClientError;
use uuid::Uuid;

use super::{
    AppState,
    forms::StatusForm,
    orders::{OrderView, short_id},
    page::{Choice, Layout, PageError, redirect, rejection_detail, render, require_admin},
    session::Session,
};
use crate::{
    clients::{Backends, Order, OrderPage, Status, User},
    store::sessions,
};

/// The header search box of the staff order pages.
const SEARCH_LABEL: &str = "Search orders by number or e-mail";

/// Orders per page of the staff list.
const PAGE_SIZE: u32 = 20;

/// The statuses the list can be filtered by, with the words staff read.
const STATUSES: [(&str, &str); 5] = [
    ("pending", "Awaiting payment"),
    ("paid", "Paid: to ship"),
    ("shipped", "Shipped"),
    ("delivered", "Delivered"),
    ("cancelled", "Cancelled"),
];

/// The list's query: search, status, page number.
#[derive(Debug, Default, Deserialize)]
pub struct OrdersQuery {
    q: Option<String>,
    status: Option<String>,
    page: Option<u32>,
}

/// What the search box asked for.
#[derive(Debug, PartialEq, Eq)]
enum Search {
    Nothing,
    /// A whole order id: open that order.
    Id(Uuid),
    /// An order number: the id's last eight hex digits.
    Number(String),
    /// A customer's e-mail.
    Email(String),
    /// Neither: say what the box takes.
    Unreadable,
}

impl Search {
    fn parse(raw: &str) -> Self {
        let text = raw.trim().trim_start_matches('#');
        if text.is_empty() {
            Self::Nothing
        } else if let Ok(id) = Uuid::parse_str(text) {
            Self::Id(id)
        } else if text.len() == 8 && text.chars().all(|c| c.is_ascii_hexdigit()) {
            Self::Number(text.to_ascii_uppercase())
        } else if text.contains('@') {
            Self::Email(text.to_owned())
        } else {
            Self::Unreadable
        }
    }
}

/// A customer as the staff pages show them.
pub struct CustomerView {
    pub name: String,
    pub email: String,
}

/// A link of the numbered pager.
pub struct PageLink {
    pub number: u32,
    pub href: String,
    pub current: bool,
}

#[derive(Template)]
#[template(path = "admin/orders.html")]
struct OrdersPage {
    page: Layout,
    orders: Vec<(OrderView, Option<CustomerView>)>,
    statuses: Vec<Choice>,
    /// What the search found or why it could not search, in words.
    search_note: Option<String>,
    total: i64,
    pages: Vec<PageLink>,
}

/// The customers of `user_ids`, fetched at once with the admin's token; a deleted account is
/// missing from the map.
async fn customers(backends: &Backends, user_ids: impl IntoIterator<Item = Uuid>) -> HashMap<Uuid, CustomerView> {
    let mut ids: Vec<Uuid> = user_ids.into_iter().collect();
    ids.sort_unstable();
    ids.dedup();
    let paths: Vec<String> = ids.iter().map(|id| format!("/users/{id}")).collect();
    let found = futures::future::join_all(paths.iter().map(|path| backends.users.get::<User>(path))).await;
    ids.into_iter()
        .zip(found)
        .filter_map(|(id, user)| user.ok().map(|u| (id, CustomerView { name: u.name, email: u.email })))
        .collect()
}

/// `GET /admin/orders`: every order, newest first, by status, order number or customer e-mail.
#[handler]
pub async fn orders(
    Data(state): Data<&AppState>,
    Data(session): Data<&Session>,
    Query(query): Query<OrdersQuery>,
) -> Result<Response, PageError> {
    let admin = require_admin(session, "/admin/orders")?;
    let backends = state.backends.as_user(&admin.token);
    let q = query.q.unwrap_or_default();
    let status = query.status.filter(|s| STATUSES.iter().any(|(v, _)| v == s)).unwrap_or_default();
    let page_number = query.page.unwrap_or(1).clamp(1, 10_000);
    let mut pairs: Vec<(&str, String)> = vec![("limit", PAGE_SIZE.to_string()), ("page", page_number.to_string())];
    if !status.is_empty() {
        pairs.push(("status", status.clone()));
    }
    let mut search_note = None;
    let mut nothing_to_list = false;
    match Search::parse(&q) {
        Search::Nothing => {}
        Search::Id(id) => return Ok(redirect(&format!("/admin/orders/{id}"))),
        Search::Number(number) => {
            search_note = Some(format!("Orders numbered #{number}"));
            pairs.push(("number", number));
        }
        Search::Email(email) => {
            let path = format!("/users?{}", serde_urlencoded::to_string([("email", &email)]).unwrap_or_default());
            match backends.users.get::<Value>(&path).await {
                Ok(found) => match found["items"][0]["id"].as_str() {
                    Some(id) => {
                        search_note = Some(format!("Orders of {email}"));
                        pairs.push(("user_id", id.to_owned()));
                    }
                    None => {
                        search_note = Some(format!("No account has the e-mail {email}."));
                        nothing_to_list = true;
                    }
                },
                Err(ClientError::Rejected { status, .. }) if status == 422 => {
                    search_note = Some(format!("{email} is not an e-mail address."));
                    nothing_to_list = true;
                }
                Err(err) => return Err(err.into()),
            }
        }
        Search::Unreadable => {
            search_note = Some(
                "Search by order number (the 8 characters after #, e.g. 1A2B3C4D) or by the customer's e-mail.".into(),
            );
            nothing_to_list = true;
        }
    }
    let found = if nothing_to_list {
        OrderPage { items: Vec::new(), next_cursor: None, total: Some(0) }
    } else {
        let path = format!("/orders?{}", serde_urlencoded::to_string(&pairs).unwrap_or_default());
        backends.orders.get(&path).await?
    };
    let total = found.total.unwrap_or_default();
    let who = customers(&backends, found.items.iter().map(|o| o.user_id)).await;
    let orders = found.items.iter().map(|o| (OrderView::from(o), who.get(&o.user_id).map(clone_customer))).collect();
    render(&OrdersPage {
        page: Layout::new(state, session, "Orders").await?.with_search("/admin/orders", SEARCH_LABEL, &q),
        orders,
        statuses: Choice::list(std::iter::once(("", "All statuses")).chain(STATUSES), &status),
        search_note,
        total,
        pages: page_links(total, page_number, |n| {
            let pairs = [("q", q.as_str()), ("status", status.as_str()), ("page", &n.to_string())];
            format!("/admin/orders?{}", serde_urlencoded::to_string(pairs).unwrap_or_default())
        }),
    })
}

fn clone_customer(c: &CustomerView) -> CustomerView {
    CustomerView { name: c.name.clone(), email: c.email.clone() }
}

/// Links to the pages around `current` (and the first and last), when there is more than one.
fn page_links(total: i64, current: u32, href: impl Fn(u32) -> String) -> Vec<PageLink> {
    let size = i64::from(PAGE_SIZE);
    let last = u32::try_from((total + size - 1) / size).unwrap_or(u32::MAX).max(1);
    if last == 1 {
        return Vec::new();
    }
    let mut numbers: Vec<u32> = vec![1, last];
    numbers.extend(current.saturating_sub(2).max(1)..=current.saturating_add(2).min(last));
    numbers.sort_unstable();
    numbers.dedup();
    numbers.into_iter().map(|number| PageLink { number, href: href(number), current: number == current }).collect()
}

#[derive(Template)]
#[template(path = "admin/order.html")]
struct OrderPageView {
    page: Layout,
    order: OrderView,
    customer: Option<CustomerView>,
    user_id: Uuid,
    payment_id: Option<Uuid>,
}

/// The order `id` with the admin's token.
async fn admin_order(backends: &Backends, id: &str) -> Result<Order, PageError> {
    let id = Uuid::parse_str(id).map_err(|_| PageError::NotFound)?;
    Ok(backends.orders.get(&format!("/orders/{id}")).await?)
}

/// `GET /admin/orders/{id}`: everything about one order, and what staff can do with it.
#[handler]
pub async fn order_page(
    Data(state): Data<&AppState>,
    Data(session): Data<&Session>,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let admin = require_admin(session, &format!("/admin/orders/{id}"))?;
    let backends = state.backends.as_user(&admin.token);
    let order = admin_order(&backends, &id).await?;
    let mut who = customers(&backends, [order.user_id]).await;
    render(&OrderPageView {
        page: Layout::new(state, session, format!("Order #{}", short_id(order.id))).await?.with_search(
            "/admin/orders",
            SEARCH_LABEL,
            "",
        ),
        customer: who.remove(&order.user_id),
        user_id: order.user_id,
        payment_id: order.payment_id,
        order: OrderView::from(&order),
    })
}

#[derive(Template)]
#[template(path = "admin/cancel_order.html")]
struct CancelPage {
    page: Layout,
    order: OrderView,
    /// The payment goes back.
    paid: bool,
}

/// `GET /admin/orders/{id}/cancel`: asks before cancelling (and refunding).
#[handler]
pub async fn confirm_cancel(
    Data(state): Data<&AppState>,
    Data(session): Data<&Session>,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let admin = require_admin(session, &format!("/admin/orders/{id}"))?;
    let order = admin_order(&state.backends.as_user(&admin.token), &id).await?;
    if !matches!(order.status, Status::Pending | Status::Paid) {
        return Ok(redirect(&format!("/admin/orders/{}", order.id)));
    }
    render(&CancelPage {
        page: Layout::new(state, session, format!("Cancel order #{}", short_id(order.id))).await?,
        paid: order.status == Status::Paid,
        order: OrderView::from(&order),
    })
}

/// `POST /admin/orders/{id}/cancel`: cancels; a paid order is refunded first.
#[handler]
pub async fn cancel(
    Data(state): Data<&AppState>,
    Data(session): Data<&Session>,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let admin = require_admin(session, &format!("/admin/orders/{id}"))?;
    let id = Uuid::parse_str(&id).map_err(|_| PageError::NotFound)?;
    let result: Result<Order, ClientError> =
        state.backends.as_user(&admin.token).orders.post(&format!("/orders/{id}/cancel"), &(), None).await;
    let notice = match result {
        Ok(o) if o.payment_id.is_some() => {
            let view = OrderView::from(&o);
            format!("Order #{} cancelled and {} refunded to the customer.", view.short_id, view.total)
        }
        Ok(o) => format!("Order #{} cancelled; its items are back in stock.", short_id(o.id)),
        Err(err) => format!("Could not cancel: {}", rejection_detail(&err).ok_or(PageError::from(err))?),
    };
    let mut conn = state.pool.acquire().await?;
    sessions::set_flash(&mut conn, &session.id_hash, &notice).await?;
    Ok(redirect(&format!("/admin/orders/{id}")))
}

/// `POST /admin/orders/{id}/status`: ship or deliver, back to the order.
#[handler]
pub async fn set_status(
    Data(state): Data<&AppState>,
    Data(session): Data<&Session>,
    Path(id): Path<String>,
    Form(form): Form<StatusForm>,
) -> Result<Response, PageError> {
    let admin = require_admin(session, "/admin/orders")?;
    let id = Uuid::parse_str(&id).map_err(|_| PageError::NotFound)?;
    let result: Result<Value, ClientError> = state
        .backends
        .as_user(&admin.token)
        .orders
        .patch(&format!("/orders/{id}"), &json!({"status": form.status}))
        .await;
    let notice = match result {
        Ok(_) => format!("Order #{} marked {}.", short_id(id), form.status),
        Err(err) => format!("Could not change the order: {}", rejection_detail(&err).ok_or(PageError::from(err))?),
    };
    let mut conn = state.pool.acquire().await?;
    sessions::set_flash(&mut conn, &session.id_hash, &notice).await?;
    Ok(redirect(&format!("/admin/orders/{id}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_search_box_takes_ids_numbers_and_e_mails() {
        let id = Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_1a2b_3c4d);
        assert_eq!(Search::parse(&id.to_string()), Search::Id(id));
        assert_eq!(Search::parse(" #1a2b3c4d "), Search::Number("1A2B3C4D".into()));
        assert_eq!(Search::parse("ada@example.com"), Search::Email("ada@example.com".into()));
        assert_eq!(Search::parse(""), Search::Nothing);
        assert_eq!(Search::parse("lamp"), Search::Unreadable);
    }

    #[test]
    fn the_pager_shows_the_ends_and_the_pages_around_the_current_one() {
        let numbers = |total, current| -> Vec<(u32, bool)> {
            page_links(total, current, |n| n.to_string()).iter().map(|l| (l.number, l.current)).collect()
        };
        assert!(numbers(20, 1).is_empty(), "one page: no pager");
        assert_eq!(numbers(21, 2), [(1, false), (2, true)]);
        let around: Vec<u32> = numbers(200, 5).iter().map(|(n, _)| *n).collect();
        assert_eq!(around, [1, 3, 4, 5, 6, 7, 10]);
    }
}
