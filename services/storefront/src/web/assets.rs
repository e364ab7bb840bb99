//! The stylesheet and the drawn product pictures; both cacheable, neither needs a session.

use poem::{Response, handler, web::Path};

use crate::domain::images::drawing;

const STYLESHEET: &str = include_str!("../../assets/style.css");
const FAVICON: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#1f6f5c"/><path d="M4 6h8l-1 6H5z" fill="#fff"/></svg>"##;

/// `GET /static/style.css`.
#[handler]
pub fn stylesheet() -> Response {
    Response::builder()
        .content_type("text/css; charset=utf-8")
        .header("cache-control", "public, max-age=300")
        .body(STYLESHEET)
}

/// `GET /favicon.ico` (an SVG; browsers accept it).
#[handler]
pub fn favicon() -> Response {
    Response::builder().content_type("image/svg+xml").header("cache-control", "public, max-age=86400").body(FAVICON)
}

/// `GET /images/catalogue/{slug}.svg`: a drawn picture for any slug, so these URLs never break.
#[handler]
pub fn catalogue_image(Path(file): Path<String>) -> Response {
    let slug = file.strip_suffix(".svg").unwrap_or(&file);
    Response::builder()
        .content_type("image/svg+xml")
        .header("cache-control", "public, max-age=86400")
        .header("content-security-policy", "default-src 'none'; style-src 'unsafe-inline'")
        .body(drawing(slug))
}
