//! A charge: orders asks payments for one when an order is paid.

use poem_openapi::Object;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::CardBody;

/// A charge request.
#[derive(Object, Serialize, Deserialize)]
pub struct ChargeBody {
    pub order_id: Uuid,
    /// Amount in integer minor units, > 0.
    pub amount: i64,
    /// ISO 4217 currency code.
    pub currency: String,
    pub card: CardBody,
}
