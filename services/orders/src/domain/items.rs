//! The lines a customer asks for.

use shopkit::{FieldErrors, rules::RangeRule};
use uuid::Uuid;

/// Most distinct products in one order.
pub const MAX_ITEMS: usize = 50;
/// Most units of one product in one order.
pub const MAX_QUANTITY: i64 = 1000;
/// How many items an order has.
pub const ITEMS_RULE: RangeRule = RangeRule { min: 1, max: MAX_ITEMS as i64, unit: "" };
/// The quantity of one item.
pub const QUANTITY_RULE: RangeRule = RangeRule { min: 1, max: MAX_QUANTITY, unit: "" };

/// Validated items, in the order the client sent them (positions name them in errors).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Items(Vec<(Uuid, i32)>);

impl Items {
    /// 1-50 items, each product once, quantities 1-1000.
    pub fn parse(raw: &[(Uuid, i64)]) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::default();
        if ITEMS_RULE.check(i64::try_from(raw.len()).unwrap_or(i64::MAX)).is_err() {
            errors.add("items", format!("must contain between {} and {} items", ITEMS_RULE.min, ITEMS_RULE.max));
        }
        let mut items = Vec::with_capacity(raw.len());
        for (i, (product_id, quantity)) in raw.iter().enumerate() {
            if items.iter().any(|(p, _)| p == product_id) {
                errors.add(
                    format!("items[{i}].product_id"),
                    "appears more than once; use one item with a larger quantity",
                );
            }
            let checked = QUANTITY_RULE
                .check(*quantity)
                .and_then(|()| i32::try_from(*quantity).map_err(|_| QUANTITY_RULE.message()));
            if let Some(q) = errors.check(&format!("items[{i}].quantity"), checked) {
                items.push((*product_id, q));
            }
        }
        if errors.is_empty() { Ok(Self(items)) } else { Err(errors) }
    }

    /// (product, quantity) in request order.
    pub fn as_slice(&self) -> &[(Uuid, i32)] {
        &self.0
    }
}

/// The total of lines priced in minor units, or `None` on overflow.
pub fn total_minor(lines: &[(i64, i32)]) -> Option<i64> {
    lines
        .iter()
        .try_fold(0i64, |sum, (price, qty)| price.checked_mul(i64::from(*qty)).and_then(|line| sum.checked_add(line)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Raw items and the fields they are rejected for.
    type Case<'a> = (&'a [(Uuid, i64)], &'a [&'a str]);

    #[test]
    fn item_rules() {
        let a = Uuid::from_u128(1);
        let cases: &[Case<'_>] = &[
            (&[(a, 1)], &[]),
            (&[], &["items"]),
            (&[(a, 0)], &["items[0].quantity"]),
            (&[(a, 1001)], &["items[0].quantity"]),
            (&[(a, 1), (a, 2)], &["items[1].product_id"]),
        ];
        for (raw, fields) in cases {
            let got: Vec<String> = match Items::parse(raw) {
                Ok(_) => vec![],
                Err(e) => e.into_vec().into_iter().map(|e| e.field).collect(),
            };
            assert_eq!(got, *fields, "{raw:?}");
        }
    }

    #[test]
    fn totals() {
        assert_eq!(total_minor(&[(1999, 2), (500, 1)]), Some(4498));
        assert_eq!(total_minor(&[(i64::MAX, 2)]), None);
    }
}
