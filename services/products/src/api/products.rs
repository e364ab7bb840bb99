//! `/products`: catalogue reads, search and admin writes.

use poem::web::Data;
use poem_openapi::{
    ApiResponse, Object, OpenApi,
    param::{Path, Query},
    payload::Json,
};
use shopkit::{
    FieldErrors,
    auth::{BearerAuth, Role},
    problem::Refusal,
};
use shopwire::{Product, ProductPage};
use uuid::Uuid;

use super::{ApiTags, AppState};
use crate::{
    domain::{
        product::{
            Category, Currency, Description, ImageUrl, NewProduct, PriceMinor, ProductChanges, ProductName, RawProduct,
            Sku, Stock,
        },
        search::{RawSearch, SearchQuery},
    },
    store::products::{self, ProductRow},
};

/// A product to add.
#[derive(Debug, Object)]
pub struct NewProductBody {
    /// Stock keeping unit, unique among live products: 2-64 of `A-Z`, `0-9`, `-` (upper-cased).
    pub sku: String,
    /// Display name, 1-200 characters.
    pub name: String,
    /// Long description, at most 5000 characters.
    #[oai(default)]
    pub description: String,
    /// Unit price in integer minor units (cents): 1999 means 19.99.
    pub price: i64,
    /// ISO 4217 currency code, e.g. `EUR`.
    pub currency: String,
    /// Units available for sale.
    pub stock: i64,
    /// Category slug: lower-case letters, digits and `-`.
    pub category: String,
    /// Picture: an `http(s)://` URL, or a path on the storefront's origin such as
    /// `/images/catalogue/mug.svg`. Absent: the storefront draws one.
    pub image_url: Option<String>,
}

/// Fields to change; absent fields keep their value.
#[derive(Debug, Object)]
pub struct ProductPatchBody {
    pub sku: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    /// Unit price in integer minor units.
    pub price: Option<i64>,
    pub currency: Option<String>,
    /// Units available for sale from now on: replaces the count, is not added to it.
    pub stock: Option<i64>,
    pub category: Option<String>,
    /// New picture URL; an empty string removes the picture.
    pub image_url: Option<String>,
}

/// The wire body of a stored product.
impl From<ProductRow> for Product {
    fn from(row: ProductRow) -> Self {
        Self {
            id: row.id,
            sku: row.sku,
            name: row.name,
            description: row.description,
            price: row.price_minor,
            currency: row.currency,
            stock: row.stock,
            category: row.category,
            image_url: row.image_url,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

/// Response of `POST /products`.
#[derive(ApiResponse)]
pub enum CreateProductResponse {
    /// The product was added.
    #[oai(status = 201)]
    Created(Json<Product>, #[oai(header = "Location")] String),
}

/// Response of reads and updates of one product.
#[derive(ApiResponse)]
pub enum ProductResponse {
    /// The product.
    #[oai(status = 200)]
    Ok(Json<Product>),
}

/// Response of `DELETE /products/{id}`.
#[derive(ApiResponse)]
pub enum DeleteProductResponse {
    /// The product is gone from the catalogue.
    #[oai(status = 204)]
    Deleted,
}

/// Response of `GET /products`.
#[derive(ApiResponse)]
pub enum SearchResponse {
    /// A page of results.
    #[oai(status = 200)]
    Ok(Json<ProductPage>),
}

shopkit::statuses!(
    /// `createProduct`: not an admin, a duplicate SKU, invalid fields.
    CreateProductErrors = [403, 409, 422]
);
shopkit::statuses!(
    /// `searchProducts`: invalid filters, sort or cursor.
    SearchErrors = [422]
);
shopkit::statuses!(
    /// `getProduct`: no such product.
    GetProductErrors = [404]
);
shopkit::statuses!(
    /// `updateProduct`: not an admin, no such product, a duplicate SKU, invalid fields.
    UpdateProductErrors = [403, 404, 409, 422]
);
shopkit::statuses!(
    /// `deleteProduct`: not an admin, no such product.
    DeleteProductErrors = [403, 404]
);

/// Catalogue operations.
pub struct ProductsApi;

#[OpenApi(tag = "ApiTags::Products")]
impl ProductsApi {
    /// Add a product (admin).
    #[oai(path = "/products", method = "post", operation_id = "createProduct")]
    async fn create(
        &self,
        auth: BearerAuth,
        state: Data<&AppState>,
        body: Json<NewProductBody>,
    ) -> Result<CreateProductResponse, Refusal<CreateProductErrors>> {
        auth.0.require(&[Role::Admin])?;
        let body = body.0;
        let product = NewProduct::parse(RawProduct {
            sku: &body.sku,
            name: &body.name,
            description: &body.description,
            price: body.price,
            currency: &body.currency,
            stock: body.stock,
            category: &body.category,
            image_url: body.image_url.as_deref(),
        })?;
        let mut conn = state.pool.acquire().await?;
        let row = products::insert(&mut conn, &product).await?;
        tracing::info!(product_id = %row.id, "product created");
        let location = format!("/products/{}", row.id);
        Ok(CreateProductResponse::Created(Json(row.into()), location))
    }

    /// Search the catalogue: full text over name and description (`q`, typo-tolerant on names),
    /// filters, sort, and cursor pagination.
    #[oai(path = "/products", method = "get", operation_id = "searchProducts")]
    #[allow(clippy::too_many_arguments)]
    async fn search(
        &self,
        state: Data<&AppState>,
        /// Words to search for, e.g. `desk lamp`.
        q: Query<Option<String>>,
        /// Only this category.
        category: Query<Option<String>>,
        /// Only prices at or above (minor units).
        min_price: Query<Option<i64>>,
        /// Only prices at or below (minor units).
        max_price: Query<Option<i64>>,
        /// Only products with stock left.
        in_stock: Query<Option<bool>>,
        /// `relevance` (the default with `q`: the exact name, a name starting with `q`, every
        /// word in the name, every word in the name once typos are corrected, every word in
        /// the name or description; newest first among equals), `newest` (the default without
        /// `q`), `price_asc`, `price_desc` or `name`.
        sort: Query<Option<String>>,
        /// `next_cursor` of the previous page.
        cursor: Query<Option<String>>,
        /// Page size, 1-100 (default 20).
        limit: Query<Option<u32>>,
    ) -> Result<SearchResponse, Refusal<SearchErrors>> {
        let query = SearchQuery::parse(RawSearch {
            q: q.0.as_deref(),
            category: category.0.as_deref(),
            min_price: min_price.0,
            max_price: max_price.0,
            in_stock: in_stock.0,
            sort: sort.0.as_deref(),
            cursor: cursor.0.as_deref(),
            limit: limit.0,
        })?;
        state.faults.inject_delay(super::SEARCH_DELAY_FLAG).await;
        let page = state.reads.lend(async |conn| products::search(conn, &query).await).await?;
        Ok(SearchResponse::Ok(Json(ProductPage {
            items: page.items.into_iter().map(Product::from).collect(),
            next_cursor: page.next.map(|c| c.encode()),
        })))
    }

    /// Get a product.
    #[oai(path = "/products/:id", method = "get", operation_id = "getProduct")]
    async fn get(&self, state: Data<&AppState>, id: Path<Uuid>) -> Result<ProductResponse, Refusal<GetProductErrors>> {
        let row = state.reads.lend(async |conn| products::get(conn, id.0).await).await?;
        Ok(ProductResponse::Ok(Json(row.into())))
    }

    /// Change some fields of a product (admin).
    #[oai(path = "/products/:id", method = "patch", operation_id = "updateProduct")]
    async fn update(
        &self,
        auth: BearerAuth,
        state: Data<&AppState>,
        id: Path<Uuid>,
        body: Json<ProductPatchBody>,
    ) -> Result<ProductResponse, Refusal<UpdateProductErrors>> {
        auth.0.require(&[Role::Admin])?;
        let changes = parse_changes(body.0)?;
        let mut conn = state.pool.acquire().await?;
        let row = products::update(&mut conn, id.0, &changes).await?;
        tracing::info!(product_id = %row.id, "product updated");
        Ok(ProductResponse::Ok(Json(row.into())))
    }

    /// Remove a product from the catalogue (admin). Orders that reference it keep their
    /// snapshot of its name and price.
    #[oai(path = "/products/:id", method = "delete", operation_id = "deleteProduct")]
    async fn delete(
        &self,
        auth: BearerAuth,
        state: Data<&AppState>,
        id: Path<Uuid>,
    ) -> Result<DeleteProductResponse, Refusal<DeleteProductErrors>> {
        auth.0.require(&[Role::Admin])?;
        let mut conn = state.pool.acquire().await?;
        products::soft_delete(&mut conn, id.0).await?;
        tracing::info!(product_id = %id.0, "product deleted");
        Ok(DeleteProductResponse::Deleted)
    }
}

fn parse_changes(body: ProductPatchBody) -> Result<ProductChanges, FieldErrors> {
    let mut errors = FieldErrors::default();
    let changes = ProductChanges {
        sku: body.sku.and_then(|v| errors.check("sku", Sku::parse(&v))),
        name: body.name.and_then(|v| errors.check("name", ProductName::parse(&v))),
        description: body.description.and_then(|v| errors.check("description", Description::parse(&v))),
        price: body.price.and_then(|v| errors.check("price", PriceMinor::for_sale(v))),
        currency: body.currency.and_then(|v| errors.check("currency", Currency::parse(&v))),
        stock: body.stock.and_then(|v| errors.check("stock", Stock::parse(v))),
        category: body.category.and_then(|v| errors.check("category", Category::parse(&v))),
        image_url: body.image_url.and_then(|v| {
            if v.trim().is_empty() { Some(None) } else { errors.check("image_url", ImageUrl::parse(&v)).map(Some) }
        }),
    };
    if errors.is_empty() { Ok(changes) } else { Err(errors) }
}
