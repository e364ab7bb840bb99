//! Stock reservations: how many units of which products an order holds.

use std::collections::BTreeMap;

use shopkit::{FieldErrors, rules::RangeRule};
use uuid::Uuid;

/// Most units of one product a single order may hold.
pub const MAX_LINE_QUANTITY: i64 = 10_000;
/// Most distinct products in one reservation.
pub const MAX_LINES: usize = 100;
/// How many lines a reservation has.
pub const LINES_RULE: RangeRule = RangeRule { min: 1, max: MAX_LINES as i64, unit: "" };
/// The quantity of one line.
pub const QUANTITY_RULE: RangeRule = RangeRule { min: 1, max: MAX_LINE_QUANTITY, unit: "" };

/// The lines of a reservation, keyed and therefore sorted by product id. Sorting matters:
/// every transaction locks product rows in the same order, so concurrent reservations
/// cannot deadlock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReservationLines(BTreeMap<Uuid, i32>);

impl ReservationLines {
    /// Validates the lines: at least one, at most [`MAX_LINES`], each product once, each
    /// quantity between 1 and [`MAX_LINE_QUANTITY`].
    pub fn parse(lines: &[(Uuid, i64)]) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::default();
        let count = i64::try_from(lines.len()).unwrap_or(i64::MAX);
        if count < LINES_RULE.min {
            errors.add("lines", "must contain at least one line");
        }
        if count > LINES_RULE.max {
            errors.add("lines", format!("must contain at most {} lines", LINES_RULE.max));
        }
        let mut map = BTreeMap::new();
        for (index, (product_id, quantity)) in lines.iter().enumerate() {
            let checked = QUANTITY_RULE
                .check(*quantity)
                .and_then(|()| i32::try_from(*quantity).map_err(|_| QUANTITY_RULE.message()));
            let Some(quantity) = errors.check(&format!("lines[{index}].quantity"), checked) else { continue };
            if map.insert(*product_id, quantity).is_some() {
                errors.add(format!("lines[{index}].product_id"), "appears more than once");
            }
        }
        if errors.is_empty() { Ok(Self(map)) } else { Err(errors) }
    }

    /// (product, quantity) in product-id order.
    pub fn iter(&self) -> impl Iterator<Item = (Uuid, i32)> + '_ {
        self.0.iter().map(|(id, q)| (*id, *q))
    }

    /// Per product, how many more units to take (positive) or give back (negative) to go
    /// from `current` to `self`, in product-id order, zero deltas left out.
    pub fn deltas_from(&self, current: &BTreeMap<Uuid, i32>) -> Vec<(Uuid, i32)> {
        let mut products: Vec<Uuid> = self.0.keys().chain(current.keys()).copied().collect();
        products.sort();
        products.dedup();
        products
            .into_iter()
            .filter_map(|id| {
                let delta = self.0.get(&id).copied().unwrap_or(0) - current.get(&id).copied().unwrap_or(0);
                (delta != 0).then_some((id, delta))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deltas_cover_added_changed_and_removed_products_in_id_order() {
        let (a, b, c) = (Uuid::from_u128(1), Uuid::from_u128(2), Uuid::from_u128(3));
        let current = BTreeMap::from([(a, 2), (b, 5)]);
        let wanted = ReservationLines::parse(&[(c, 1), (b, 3)]).expect("valid");
        assert_eq!(wanted.deltas_from(&current), vec![(a, -2), (b, -2), (c, 1)]);
        assert!(wanted.deltas_from(&BTreeMap::from([(b, 3), (c, 1)])).is_empty(), "same lines: nothing to do");
    }

    #[test]
    fn invalid_lines_are_named() {
        let a = Uuid::from_u128(1);
        let cases: &[(&[(Uuid, i64)], &str)] = &[
            (&[], "lines"),
            (&[(a, 0)], "lines[0].quantity"),
            (&[(a, MAX_LINE_QUANTITY + 1)], "lines[0].quantity"),
            (&[(a, 1), (a, 2)], "lines[1].product_id"),
        ];
        for (lines, field) in cases {
            let errors = ReservationLines::parse(lines).expect_err("invalid").into_vec();
            assert_eq!(errors[0].field, *field, "{lines:?}");
        }
    }
}
