//! HTTP API: wire types and handlers over the sagas.

mod delivery;
mod orders;
mod wire;

pub use delivery::DeliveryApi;
pub use orders::OrdersApi;

use poem_openapi::Tags;
use shopkit::edge::SchemaRule;

/// Operation groups in the docs UI.
#[derive(Tags)]
pub enum ApiTags {
    /// Placing, paying, changing and cancelling orders.
    Orders,
    /// Where the shop delivers and what it costs.
    Delivery,
}

/// Where the domain types' rules apply, written into the spec (see [`SchemaRule`]): each rule
/// is the constant its parsing checks. The card is checked by payments, with the rules
/// `shopkit::types` states for both; its checksum and expiry cannot be said in JSON Schema.
pub fn schema_rules() -> Vec<SchemaRule> {
    use crate::domain::{
        items::{ITEMS_RULE, QUANTITY_RULE},
        listing::{LIMIT_RULE, NUMBER_PATTERN},
    };
    use SchemaRule::{Field, Param};
    use serde_json::json;
    use shopkit::types::{CARD_CVC_RULE, CARD_EXP_MONTH_RULE, CARD_NUMBER_RULE};
    vec![
        Field("NewOrderBody", "items", ITEMS_RULE.items_schema()),
        Field("OrderPatchBody", "items", ITEMS_RULE.items_schema()),
        Field("ItemBody", "quantity", QUANTITY_RULE.schema()),
        Field("CardBody", "number", CARD_NUMBER_RULE.schema()),
        Field("CardBody", "exp_month", CARD_EXP_MONTH_RULE.schema()),
        Field("CardBody", "cvc", CARD_CVC_RULE.schema()),
        Param("listOrders", "limit", LIMIT_RULE.schema()),
        Param("listOrders", "number", json!({"pattern": NUMBER_PATTERN})),
        Param("getDeliveryOptions", "currency", json!({"pattern": "^[A-Z]{3}$"})),
        Field("DeliveryBody", "method", json!({"enum": ["standard", "express"]})),
    ]
    .into_iter()
    .chain(shopkit::address::schema_rules("AddressBody"))
    .collect()
}
