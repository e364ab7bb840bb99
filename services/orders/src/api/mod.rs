//! HTTP API: wire types and handlers over the sagas.

mod orders;
mod wire;

pub use orders::OrdersApi;

use poem_openapi::Tags;
use serde_json::json;
use shopkit::edge::SchemaRule;

/// Operation groups in the docs UI.
#[derive(Tags)]
pub enum ApiTags {
    /// Placing, paying, changing and cancelling orders.
    Orders,
}

/// What the domain types check, written into the spec (see [`SchemaRule`]). The card's
/// checksum and expiry are checked by payments and cannot be said in JSON Schema.
pub fn schema_rules() -> Vec<SchemaRule> {
    use crate::domain::items::{MAX_ITEMS, MAX_QUANTITY};
    use SchemaRule::{Field, Param};
    let items = json!({"minItems": 1, "maxItems": MAX_ITEMS});
    vec![
        Field("NewOrderBody", "items", items.clone()),
        Field("OrderPatchBody", "items", items),
        Field("ItemBody", "quantity", json!({"minimum": 1, "maximum": MAX_QUANTITY})),
        Field("CardBody", "number", json!({"pattern": "^[0-9][0-9 -]{10,30}[0-9]$"})),
        Field("CardBody", "exp_month", json!({"minimum": 1, "maximum": 12})),
        Field("CardBody", "cvc", json!({"pattern": "^[0-9]{3,4}$"})),
        Param("listOrders", "limit", json!({"minimum": 1, "maximum": 100})),
    ]
}
