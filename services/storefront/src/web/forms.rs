//! The bodies of the shop's forms. Every field is text, parsed by the handler, so a bad value
//! gets a message on the page instead of a bare 400. (`csrf` is checked by [`super::csrf`].)

use serde::Deserialize;

/// Add to cart.
#[derive(Debug, Deserialize)]
pub struct AddToCart {
    pub product_id: String,
    pub quantity: String,
}

/// Change a cart line.
#[derive(Debug, Deserialize)]
pub struct SetQuantity {
    /// New units; 0 removes the line.
    pub quantity: String,
}

/// Log in.
#[derive(Debug, Deserialize)]
pub struct LoginForm {
    pub email: String,
    pub password: String,
    /// Where to go afterwards.
    #[serde(default)]
    pub next: String,
}

#[derive(Debug, Deserialize)]
pub struct RegisterForm {
    /// Display name.
    pub name: String,
    pub email: String,
    pub password: String,
    /// Where to go afterwards.
    #[serde(default)]
    pub next: String,
}

/// Profile changes; blank fields are left as they are.
#[derive(Debug, Deserialize)]
pub struct ProfileForm {
    /// Display name.
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub email: String,
    /// New password.
    #[serde(default)]
    pub password: String,
    /// Current password (needed to change e-mail or password).
    #[serde(default)]
    pub current_password: String,
}

/// Card details.
#[derive(Debug, Deserialize)]
pub struct CardForm {
    /// Number (spaces allowed).
    pub number: String,
    /// `MM/YY` or `MM/YYYY`.
    pub expiry: String,
    pub cvc: String,
    /// Idempotency key of this payment attempt (one per rendered form, so a double submit
    /// charges once).
    pub attempt: String,
}

/// A product in the admin editor.
#[derive(Debug, Deserialize)]
pub struct ProductForm {
    pub sku: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Price in major units as typed (`12.50`).
    pub price: String,
    /// Currency code.
    pub currency: String,
    /// Units for sale.
    pub stock: String,
    /// Category slug.
    pub category: String,
    /// Picture URL (blank: none).
    #[serde(default)]
    pub image_url: String,
}

/// An admin's order status change.
#[derive(Debug, Deserialize)]
pub struct StatusForm {
    /// `shipped` or `delivered`.
    pub status: String,
}
