//! What every page shares: the layout (header, cart badge, notice), rendering, redirects, and
//! [`PageError`], the one error type of the page handlers, shown as an HTML page.

use askama::Template;
use poem::{
    IntoResponse, Response,
    http::{StatusCode, header},
};
use shopkit::client::ClientError;

use super::{AppState, session::Session};
use crate::store::carts;

/// The header and frame of every page.
#[derive(Debug, Clone)]
pub struct Layout {
    /// Page title (escaped by the template).
    pub title: String,
    /// The logged-in account's name.
    pub user_name: Option<String>,
    /// Whether to show the admin links.
    pub is_admin: bool,
    /// The CSRF token for the forms of the page (log-out in the header included).
    pub csrf: String,
    /// Units in the cart.
    pub cart_units: i64,
    /// The notice to show once.
    pub flash: Option<String>,
    /// The page's one search box, in the header: what it searches and the query it shows.
    pub search: SearchBox,
}

/// The header's search box. One box per page: the catalogue's by default, the admin product
/// list's on that page; it keeps the query the page shows, so a shopper can refine it.
#[derive(Debug, Clone)]
pub struct SearchBox {
    /// Where the box submits `q`.
    pub action: &'static str,
    /// The query the page answers (empty when none).
    pub query: String,
    /// The box's accessible name and placeholder.
    pub label: &'static str,
}

impl Default for SearchBox {
    fn default() -> Self {
        Self { action: "/", query: String::new(), label: "Search products" }
    }
}

impl Layout {
    /// The layout for `session`, with its cart count.
    pub async fn new(state: &AppState, session: &Session, title: impl Into<String>) -> Result<Self, PageError> {
        let mut conn = state.pool.acquire().await?;
        let cart_units = carts::unit_count(&mut conn, &session.cart_owner()).await?;
        Ok(Self {
            title: title.into(),
            user_name: session.user.as_ref().map(|u| u.name.clone()),
            is_admin: session.user.as_ref().is_some_and(|u| u.is_admin),
            csrf: session.csrf.clone(),
            cart_units,
            flash: session.flash.clone(),
            search: SearchBox::default(),
        })
    }

    /// The same layout, its search box showing `query` (the catalogue's own search).
    pub fn searching(mut self, query: &str) -> Self {
        self.search.query = query.to_owned();
        self
    }

    /// The same layout, its search box searching `action` instead of the catalogue.
    pub fn with_search(mut self, action: &'static str, label: &'static str, query: &str) -> Self {
        self.search = SearchBox { action, query: query.to_owned(), label };
        self
    }
}

/// Renders a template as an HTML response with `status`.
pub fn render_with(status: StatusCode, template: &impl Template) -> Result<Response, PageError> {
    let html = template.render().map_err(|e| PageError::Internal(e.to_string()))?;
    Ok(Response::builder().status(status).content_type("text/html; charset=utf-8").body(html))
}

/// Renders a template as a 200 HTML response.
pub fn render(template: &impl Template) -> Result<Response, PageError> {
    render_with(StatusCode::OK, template)
}

/// `303 See Other` to a local path: the answer to every successful form (post/redirect/get).
pub fn redirect(to: &str) -> Response {
    Response::builder().status(StatusCode::SEE_OTHER).header(header::LOCATION, to).finish()
}

/// `to` if it is a path on this site, else `/`: `next` parameters must not redirect elsewhere.
pub fn local_path(to: Option<&str>) -> String {
    match to {
        Some(path) if path.starts_with('/') && !path.starts_with("//") && !path.contains('\\') => path.to_owned(),
        _ => "/".to_owned(),
    }
}

/// Why a page could not be shown; each variant says the status it answers with.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    /// 404: no such page, product or order.
    #[error("not found")]
    NotFound,
    /// 400: a form or query that could not be read (a hand-made request: the pages' own forms
    /// always parse).
    #[error("malformed request")]
    Malformed,
    /// 403: the page is for staff.
    #[error("forbidden")]
    Forbidden,
    /// 403: the form's CSRF token is missing or wrong (or the session expired).
    #[error("invalid form token")]
    Csrf,
    /// 303 to the log-in page, coming back to `next` afterwards.
    #[error("login required")]
    LoginRequired {
        /// Where to return after logging in.
        next: String,
    },
    /// 503: our database or a service is unavailable.
    #[error("unavailable")]
    Unavailable,
    /// 500: something that should not happen; logged in full, shown opaquely.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<sqlx::Error> for PageError {
    fn from(err: sqlx::Error) -> Self {
        tracing::error!(error = %err, "storefront database error");
        Self::Unavailable
    }
}

impl From<ClientError> for PageError {
    fn from(err: ClientError) -> Self {
        match err {
            ClientError::Rejected { status, .. } if status == 404 => Self::NotFound,
            ClientError::Rejected { status, .. } if status == 403 => Self::Forbidden,
            ClientError::Rejected { status, .. } if status == 401 => Self::LoginRequired { next: "/".into() },
            ClientError::Unavailable { .. } => {
                tracing::warn!(error = %err, "a service is unavailable");
                Self::Unavailable
            }
            other => {
                tracing::error!(error = %other, "unexpected answer from a service");
                Self::Internal(other.to_string())
            }
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    heading: &'a str,
    message: &'a str,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let (status, heading, message) = match &self {
            PageError::LoginRequired { next } => {
                let query = serde_urlencoded::to_string([("next", next.as_str())]).unwrap_or_default();
                return redirect(&format!("/login?{query}"));
            }
            PageError::NotFound => (StatusCode::NOT_FOUND, "Not found", "This page does not exist (any more)."),
            PageError::Malformed => {
                (StatusCode::BAD_REQUEST, "This request could not be read", "Go back and send the form again.")
            }
            PageError::Forbidden => (StatusCode::FORBIDDEN, "Not allowed", "This page is for shop staff."),
            PageError::Csrf => {
                (StatusCode::FORBIDDEN, "This form has expired", "Go back, reload the page and send the form again.")
            }
            PageError::Unavailable => {
                (StatusCode::SERVICE_UNAVAILABLE, "The shop is briefly unavailable", "Please try again in a moment.")
            }
            PageError::Internal(detail) => {
                tracing::error!(detail = %detail, "page failed");
                (StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong", "Please try again in a moment.")
            }
        };
        let html = ErrorPage { heading, message }.render().unwrap_or_else(|_| heading.to_owned());
        Response::builder().status(status).content_type("text/html; charset=utf-8").body(html)
    }
}

/// Any error poem raised outside a handler (no such route, wrong method, a body that does not
/// parse) as an HTML page; responses already built (by [`PageError`]) pass through unchanged.
pub async fn error_page(err: poem::Error) -> Response {
    if err.is_from_response() {
        return err.into_response();
    }
    match err.status() {
        StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED => PageError::NotFound.into_response(),
        status if status.is_client_error() => PageError::Malformed.into_response(),
        _ => PageError::Internal(err.to_string()).into_response(),
    }
}

/// Handlers return `Result<Response, PageError>`; poem turns the error into this finished HTML
/// response (the kit's middleware passes responses made this way through unchanged).
impl From<PageError> for poem::Error {
    fn from(err: PageError) -> Self {
        poem::Error::from_response(err.into_response())
    }
}

/// The session's user, or a redirect to the log-in page that comes back to `next`.
pub fn require_user<'a>(session: &'a Session, next: &str) -> Result<&'a super::session::SessionUser, PageError> {
    session.user.as_ref().ok_or_else(|| PageError::LoginRequired { next: next.to_owned() })
}

/// The session's user if staff: else 403 (or log-in first).
pub fn require_admin<'a>(session: &'a Session, next: &str) -> Result<&'a super::session::SessionUser, PageError> {
    let user = require_user(session, next)?;
    if user.is_admin { Ok(user) } else { Err(PageError::Forbidden) }
}

/// A service's explanation of a rejected request (its problem `detail`), for showing on the form.
pub fn rejection_detail(err: &ClientError) -> Option<String> {
    match err {
        ClientError::Rejected { problem, status, .. } if status.is_client_error() => {
            let problem = problem.as_ref()?;
            let fields: Vec<String> = problem
                .errors
                .iter()
                .flatten()
                .map(|e| format!("{}: {}", e.field.replace('_', " "), e.message))
                .collect();
            Some(if fields.is_empty() { problem.detail.clone() } else { fields.join("; ") })
        }
        _ => None,
    }
}

/// One option of a `<select>`, with whether it is the current one.
pub struct Choice {
    /// Submitted value.
    pub value: String,
    /// Shown text.
    pub label: String,
    /// Currently selected.
    pub selected: bool,
}

impl Choice {
    /// Options for `(value, label)` pairs with `current` selected.
    pub fn list<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>, current: &str) -> Vec<Choice> {
        pairs
            .into_iter()
            .map(|(value, label)| Choice {
                value: value.to_owned(),
                label: label.to_owned(),
                selected: value == current,
            })
            .collect()
    }
}
