//! Rules of the shop front, no I/O: money display, cart quantities, product pictures.

pub mod images;
pub mod money;

/// Units of one product a cart line may hold: 1-99 (also a database CHECK).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CartQuantity(i32);

impl CartQuantity {
    /// The largest quantity of one product in a cart.
    pub const MAX: i32 = 99;

    /// Checks the range.
    pub fn parse(units: i64) -> Result<Self, String> {
        match i32::try_from(units) {
            Ok(n) if (1..=Self::MAX).contains(&n) => Ok(Self(n)),
            _ => Err(format!("Choose a quantity between 1 and {}.", Self::MAX)),
        }
    }
    /// The number of units.
    pub fn units(self) -> i32 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::CartQuantity;

    #[test]
    fn cart_quantities_are_one_to_ninety_nine() {
        for (units, ok) in [(0, false), (1, true), (99, true), (100, false), (-1, false), (i64::MAX, false)] {
            assert_eq!(CartQuantity::parse(units).is_ok(), ok, "{units}");
        }
    }
}
