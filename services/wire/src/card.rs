//! Card details: typed by the shopper in the storefront, passed through orders, checked and
//! charged by payments. Deliberately not `Debug`: the number and CVC must never reach a log
//! line or a span; orders and the storefront never store them.

use poem_openapi::Object;
use serde::{Deserialize, Serialize};

/// Card details. The number and CVC are used for this request only and never stored or logged.
#[derive(Object, Serialize, Deserialize, Clone)]
pub struct CardBody {
    /// Card number (spaces and dashes allowed). Test cards: 4242424242424242 succeeds,
    /// 4000000000000002 `card_declined`, 4000000000009995 `insufficient_funds`,
    /// 4000000000000069 `expired_card`; any other valid number succeeds.
    #[oai(write_only)]
    pub number: String,
    /// Expiry month, 1-12.
    pub exp_month: u32,
    /// Expiry year, four digits.
    pub exp_year: i32,
    /// Card verification code, 3-4 digits.
    #[oai(write_only)]
    pub cvc: String,
}
