//! `shopwire`: the bodies that cross a service boundary, one Rust type each. The service that
//! answers derives its spec and its parsing from the type (poem-openapi); every service that
//! calls it sends or reads the same type (serde). A renamed or retyped field then breaks the
//! caller's build, not its requests in production.
//!
//! Both derives read the field names as written, so the JSON is the same either way; an
//! optional field is `Option` and may be absent or null in both.
//!
//! # Layout
//! - [`card`]: [`CardBody`], sent by the storefront to orders and by orders to payments.
//! - [`catalogue`]: [`Product`], [`ProductPage`], answered by products, read by the storefront.
//! - [`orders`]: [`Order`] and its parts, answered by orders, read by the storefront;
//!   [`ItemBody`], sent by the storefront.
//! - [`delivery`]: [`DeliveryBody`] sent by the storefront with a new order, [`OrderDelivery`]
//!   in an [`Order`], [`DeliveryOptions`] answered by orders.
//! - [`events`]: [`events::OrderEvent`] and the stream's names, written by orders to NATS
//!   JetStream and read by notifications.
//! - [`payments`]: [`ChargeBody`], sent by orders to payments.

pub mod card;
pub mod catalogue;
pub mod delivery;
pub mod events;
pub mod orders;
pub mod payments;

pub use card::CardBody;
pub use catalogue::{Product, ProductPage};
pub use delivery::{AddressBody, CountryOption, DeliveryBody, DeliveryOptions, MethodOption, OrderDelivery};
pub use orders::{ItemBody, Order, OrderLine, OrderPage, Status};
pub use payments::ChargeBody;
