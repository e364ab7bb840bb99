//! Staff pages of the catalogue: list, create, edit, stock, delete (after a confirmation page).
//! Every change goes through the products API with the admin's own token, so products decides
//! what an admin may do. Orders: [`super::admin_orders`].

use askama::Template;
use poem::{
    Response, handler,
    http::StatusCode,
    web::{Data, Form, Path, Query},
};
use serde::Deserialize;
use serde_json::{Value, json};
use shopkit::client::ClientError;
use uuid::Uuid;

use super::{
    AppState,
    catalogue::ProductView,
    forms::ProductForm,
    page::{Layout, PageError, redirect, rejection_detail, render, render_with, require_admin},
    session::Session,
};
use crate::{
    clients::{Product, ProductPage},
    domain::money::{parse_major, to_major_text},
    store::sessions,
};

/// Search and paging of the admin lists.
#[derive(Debug, Default, Deserialize)]
pub struct AdminQuery {
    q: Option<String>,
    cursor: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/products.html")]
struct ProductsPage {
    page: Layout,
    products: Vec<(ProductView, String)>,
    next_page: Option<String>,
}

/// `GET /admin/products`.
#[handler]
pub async fn products(
    Data(state): Data<&AppState>,
    Data(session): Data<&Session>,
    Query(query): Query<AdminQuery>,
) -> Result<Response, PageError> {
    require_admin(session, "/admin/products")?;
    let q = query.q.unwrap_or_default().trim().to_owned();
    let mut search: Vec<(&str, String)> = vec![("limit", "50".into()), ("sort", "name".into())];
    if !q.is_empty() {
        search.push(("q", q.clone()));
    }
    if let Some(cursor) = query.cursor.filter(|c| !c.is_empty()) {
        search.push(("cursor", cursor));
    }
    let page: ProductPage = state.backends.search(&search).await?;
    let next_page = page.next_cursor.as_deref().map(|cursor| {
        let pairs = [("q", q.as_str()), ("cursor", cursor)];
        format!("/admin/products?{}", serde_urlencoded::to_string(pairs).unwrap_or_default())
    });
    render(&ProductsPage {
        page: Layout::new(state, session, "Products").await?.with_search("/admin/products", "Search the products", &q),
        products: page.items.iter().map(|p| (ProductView::from(p), p.sku.clone())).collect(),
        next_page,
    })
}

/// The editor's field values (as typed, so a refused form keeps them).
#[derive(Debug, Default)]
pub struct ProductFields {
    sku: String,
    name: String,
    description: String,
    price: String,
    currency: String,
    stock: String,
    category: String,
    image_url: String,
}

impl From<&Product> for ProductFields {
    fn from(p: &Product) -> Self {
        Self {
            sku: p.sku.clone(),
            name: p.name.clone(),
            description: p.description.clone(),
            price: to_major_text(p.price, &p.currency),
            currency: p.currency.clone(),
            stock: p.stock.to_string(),
            category: p.category.clone(),
            image_url: p.image_url.clone().unwrap_or_default(),
        }
    }
}

impl From<ProductForm> for ProductFields {
    fn from(f: ProductForm) -> Self {
        Self {
            sku: f.sku,
            name: f.name,
            description: f.description,
            price: f.price,
            currency: f.currency,
            stock: f.stock,
            category: f.category,
            image_url: f.image_url,
        }
    }
}

impl ProductFields {
    /// The JSON body for the products API; price and stock are parsed here, the rest is
    /// validated by products (whose messages are shown).
    fn to_body(&self) -> Result<Value, String> {
        let currency = self.currency.trim().to_ascii_uppercase();
        let price = parse_major(&self.price, &currency)?;
        let stock: i64 = self.stock.trim().parse().map_err(|_| "Stock is a whole number of units.".to_owned())?;
        check_picture_address(self.image_url.trim())?;
        Ok(json!({
            "sku": self.sku.trim(),
            "name": self.name.trim(),
            "description": self.description.trim(),
            "price": price,
            "currency": currency,
            "stock": stock,
            "category": self.category.trim(),
            "image_url": self.image_url.trim(),
        }))
    }
}

/// A picture the shop's pages can show: a path on the shop (`/images/...`) or an `https://`
/// address. The pages' Content-Security-Policy (`img-src 'self' https: data:`) blocks
/// `http://` pictures, so the form refuses them rather than save a picture no one will see.
fn check_picture_address(url: &str) -> Result<(), String> {
    let lower = url.to_ascii_lowercase();
    if url.is_empty() || lower.starts_with("https://") || (url.starts_with('/') && !url.starts_with("//")) {
        Ok(())
    } else if lower.starts_with("http://") {
        Err(format!(
            "Picture address: use https://{} or a picture on this shop (/images/...): the shop's pages do not \
             load pictures over plain http://, so shoppers would see none.",
            &url["http://".len()..]
        ))
    } else {
        Err("Picture address: an https:// address, or a path on this shop such as /images/catalogue/mug.svg.".into())
    }
}

#[derive(Template)]
#[template(path = "admin/product_form.html")]
struct ProductFormPage {
    page: Layout,
    id: Option<Uuid>,
    fields: ProductFields,
    error: Option<String>,
}

/// `GET /admin/products/new`.
#[handler]
pub async fn new_product_page(
    Data(state): Data<&AppState>,
    Data(session): Data<&Session>,
) -> Result<Response, PageError> {
    require_admin(session, "/admin/products/new")?;
    let fields = ProductFields { currency: "EUR".into(), stock: "0".into(), ..ProductFields::default() };
    render(&ProductFormPage { page: Layout::new(state, session, "New product").await?, id: None, fields, error: None })
}

/// `GET /admin/products/{id}`.
#[handler]
pub async fn edit_product_page(
    Data(state): Data<&AppState>,
    Data(session): Data<&Session>,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    require_admin(session, &format!("/admin/products/{id}"))?;
    let id = Uuid::parse_str(&id).map_err(|_| PageError::NotFound)?;
    let product = state.backends.product(id).await?.ok_or(PageError::NotFound)?;
    render(&ProductFormPage {
        page: Layout::new(state, session, format!("Edit {}", product.name)).await?,
        id: Some(id),
        fields: ProductFields::from(&product),
        error: None,
    })
}

async fn save_product(
    state: &AppState,
    session: &Session,
    id: Option<Uuid>,
    form: ProductForm,
) -> Result<Response, PageError> {
    let admin = require_admin(session, "/admin/products")?;
    let fields = ProductFields::from(form);
    let saved: Result<Product, String> = match fields.to_body() {
        Err(message) => Err(message),
        Ok(body) => {
            let catalogue = state.backends.as_user(&admin.token).products;
            let result: Result<Product, ClientError> = match id {
                Some(id) => catalogue.patch(&format!("/products/{id}"), &body).await,
                None => catalogue.post("/products", &body, None).await,
            };
            match result {
                Ok(product) => Ok(product),
                Err(err) => Err(rejection_detail(&err).ok_or(PageError::from(err))?),
            }
        }
    };
    match saved {
        Ok(product) => {
            let mut conn = state.pool.acquire().await?;
            sessions::set_flash(&mut conn, &session.id_hash, &format!("Saved {}.", product.name)).await?;
            Ok(redirect("/admin/products"))
        }
        Err(error) => render_with(
            StatusCode::UNPROCESSABLE_ENTITY,
            &ProductFormPage { page: Layout::new(state, session, "Product").await?, id, fields, error: Some(error) },
        ),
    }
}

/// `POST /admin/products/new`.
#[handler]
pub async fn create_product(
    Data(state): Data<&AppState>,
    Data(session): Data<&Session>,
    Form(form): Form<ProductForm>,
) -> Result<Response, PageError> {
    save_product(state, session, None, form).await
}

/// `POST /admin/products/{id}`.
#[handler]
pub async fn update_product(
    Data(state): Data<&AppState>,
    Data(session): Data<&Session>,
    Path(id): Path<String>,
    Form(form): Form<ProductForm>,
) -> Result<Response, PageError> {
    let id = Uuid::parse_str(&id).map_err(|_| PageError::NotFound)?;
    save_product(state, session, Some(id), form).await
}

#[derive(Template)]
#[template(path = "admin/delete_product.html")]
struct DeleteProductPage {
    page: Layout,
    product: ProductView,
    sku: String,
}

/// `GET /admin/products/{id}/delete`: asks before deleting.
#[handler]
pub async fn confirm_delete_product(
    Data(state): Data<&AppState>,
    Data(session): Data<&Session>,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    require_admin(session, &format!("/admin/products/{id}"))?;
    let id = Uuid::parse_str(&id).map_err(|_| PageError::NotFound)?;
    let product = state.backends.product(id).await?.ok_or(PageError::NotFound)?;
    render(&DeleteProductPage {
        page: Layout::new(state, session, format!("Delete {}", product.name)).await?,
        sku: product.sku.clone(),
        product: ProductView::from(&product),
    })
}

/// `POST /admin/products/{id}/delete` (from the confirmation page).
#[handler]
pub async fn delete_product(
    Data(state): Data<&AppState>,
    Data(session): Data<&Session>,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let admin = require_admin(session, "/admin/products")?;
    let id = Uuid::parse_str(&id).map_err(|_| PageError::NotFound)?;
    state.backends.as_user(&admin.token).products.delete(&format!("/products/{id}")).await?;
    let mut conn = state.pool.acquire().await?;
    sessions::set_flash(&mut conn, &session.id_hash, "Product deleted.").await?;
    Ok(redirect("/admin/products"))
}

#[cfg(test)]
mod tests {
    use super::check_picture_address;

    #[test]
    fn only_pictures_the_pages_may_load_are_accepted() {
        for fine in ["", "/images/catalogue/mug.svg", "https://cdn.example/mug.png", "HTTPS://CDN.EXAMPLE/a.png"] {
            assert_eq!(check_picture_address(fine), Ok(()), "{fine}");
        }
        let http = check_picture_address("http://cdn.example/mug.png").expect_err("http");
        assert!(http.contains("https://cdn.example/mug.png") && http.contains("plain http://"), "{http}");
        for refused in ["//cdn.example/x.png", "ftp://x/y.png", "javascript:alert(1)", "mug.png"] {
            assert!(check_picture_address(refused).is_err(), "{refused}");
        }
    }
}
