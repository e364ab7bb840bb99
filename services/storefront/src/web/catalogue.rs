//! The catalogue: home page with search, category filter, sort and pagination; product pages.

use std::time::{Duration, Instant};

use askama::Template;
use poem::{
    Response, handler,
    web::{Data, Path, Query},
};
use serde::Deserialize;
use uuid::Uuid;

use super::{
    AppState,
    page::{Choice, Layout, PageError, render},
    session::Session,
};
use crate::{
    clients::Product,
    domain::{images::image_src, money::format_money},
};

/// Products per catalogue page.
const PAGE_SIZE: u32 = 12;
/// How long the category list is reused.
const CATEGORIES_TTL: Duration = Duration::from_secs(60);

/// The sort orders the products API offers, with their labels.
pub const SORTS: [(&str, &str); 4] =
    [("newest", "Newest"), ("price_asc", "Price: low to high"), ("price_desc", "Price: high to low"), ("name", "Name")];

/// A product as the cards and pages show it.
pub struct ProductView {
    pub id: Uuid,
    pub name: String,
    pub description: String,
    /// Category slug.
    pub category: String,
    /// Formatted price.
    pub price: String,
    /// Where the picture is.
    pub image: String,
    /// Units for sale.
    pub stock: i32,
    /// "In stock", "Only 2 left", "Out of stock".
    pub availability: String,
}

impl From<&Product> for ProductView {
    fn from(p: &Product) -> Self {
        Self {
            id: p.id,
            name: p.name.clone(),
            description: p.description.clone(),
            category: p.category.clone(),
            price: format_money(p.price, &p.currency),
            image: image_src(p.image_url.as_deref(), &p.category),
            stock: p.stock,
            availability: availability(p.stock),
        }
    }
}

/// How much is left, in the words a shop uses: exact counts only when few are left.
pub fn availability(stock: i32) -> String {
    match stock {
        ..=0 => "Out of stock".to_owned(),
        1..=5 => format!("Only {stock} left"),
        _ => "In stock".to_owned(),
    }
}

/// The catalogue's query string; everything optional and kept as text so a hand-edited URL
/// never fails to parse.
#[derive(Debug, Default, Deserialize)]
pub struct CatalogueQuery {
    q: Option<String>,
    category: Option<String>,
    sort: Option<String>,
    cursor: Option<String>,
    in_stock: Option<String>,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    page: Layout,
    products: Vec<ProductView>,
    q: String,
    in_stock: bool,
    categories: Vec<Choice>,
    sorts: Vec<Choice>,
    next_page: Option<String>,
    first_page: Option<String>,
}

/// `GET /`: the catalogue.
#[handler]
pub async fn home(
    Data(state): Data<&AppState>,
    Data(session): Data<&Session>,
    Query(query): Query<CatalogueQuery>,
) -> Result<Response, PageError> {
    let q = query.q.unwrap_or_default().trim().to_owned();
    let category = query.category.unwrap_or_default();
    let sort = query.sort.filter(|s| SORTS.iter().any(|(v, _)| v == s)).unwrap_or_else(|| "newest".into());
    let in_stock = query.in_stock.is_some_and(|v| v == "true" || v == "on");
    let mut filters: Vec<(&str, String)> = vec![("sort", sort.clone())];
    if !q.is_empty() {
        filters.push(("q", q.clone()));
    }
    if !category.is_empty() {
        filters.push(("category", category.clone()));
    }
    if in_stock {
        filters.push(("in_stock", "true".into()));
    }
    let mut search = filters.clone();
    search.push(("limit", PAGE_SIZE.to_string()));
    if let Some(cursor) = query.cursor.as_ref().filter(|c| !c.is_empty()) {
        search.push(("cursor", cursor.clone()));
    }
    let page = match state.backends.search(&search).await {
        Ok(page) => page,
        // A filter the catalogue rejects (a bad category slug typed into the URL) finds nothing.
        Err(shopkit::client::ClientError::Rejected { status, .. }) if status == 422 || status == 400 => {
            crate::clients::ProductPage { items: Vec::new(), next_cursor: None }
        }
        Err(err) => return Err(err.into()),
    };
    let link = |cursor: Option<&str>| {
        let mut pairs = filters.clone();
        if let Some(cursor) = cursor {
            pairs.push(("cursor", cursor.to_owned()));
        }
        format!("/?{}", serde_urlencoded::to_string(&pairs).unwrap_or_default())
    };
    let title = if q.is_empty() { "Shop".to_owned() } else { format!("Search: {q}") };
    let template = HomePage {
        page: Layout::new(state, session, title).await?.searching(&q),
        products: page.items.iter().map(ProductView::from).collect(),
        next_page: page.next_cursor.as_deref().map(|c| link(Some(c))),
        first_page: query.cursor.is_some().then(|| link(None)),
        categories: {
            let all = categories(state).await;
            let mut choices =
                vec![Choice { value: String::new(), label: "All categories".into(), selected: category.is_empty() }];
            choices.extend(Choice::list(all.iter().map(|c| (c.as_str(), c.as_str())), &category));
            choices
        },
        sorts: Choice::list(SORTS, &sort),
        q,
        in_stock,
    };
    render(&template)
}

/// The categories of the catalogue (from its first 100 products by name), cached a minute.
/// Empty when products is unreachable: the page still renders its error.
async fn categories(state: &AppState) -> Vec<String> {
    let mut cached = state.categories.lock().await;
    if let Some((at, list)) = cached.as_ref()
        && at.elapsed() < CATEGORIES_TTL
    {
        return list.clone();
    }
    let Ok(page) = state.backends.search(&[("limit", "100".into()), ("sort", "name".into())]).await else {
        return Vec::new();
    };
    let mut list: Vec<String> = page.items.into_iter().map(|p| p.category).collect();
    list.sort();
    list.dedup();
    *cached = Some((Instant::now(), list.clone()));
    list
}

#[derive(Template)]
#[template(path = "product.html")]
struct ProductPage {
    page: Layout,
    product: ProductView,
    max_quantity: i32,
}

/// `GET /products/{id}`.
#[handler]
pub async fn product_page(
    Data(state): Data<&AppState>,
    Data(session): Data<&Session>,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let id = Uuid::parse_str(&id).map_err(|_| PageError::NotFound)?;
    let product = state.backends.product(id).await?.ok_or(PageError::NotFound)?;
    let view = ProductView::from(&product);
    render(&ProductPage {
        page: Layout::new(state, session, product.name.clone()).await?,
        max_quantity: view.stock.clamp(1, crate::domain::CartQuantity::MAX),
        product: view,
    })
}
