//! The number people read for an order: the last eight hex digits of its id, in capitals
//! (order ids are UUIDv7, whose first digits are a timestamp and look alike). The storefront
//! shows it, staff search by it, the e-mails quote it.

/// `01a24005-565f-74d3-a654-e3727c08f898` -> `7C08F898`. An id shorter than eight hex digits
/// (not an order id) is returned whole, in capitals.
pub fn order_number(id: &str) -> String {
    let hex: String = id.chars().filter(char::is_ascii_hexdigit).collect();
    hex[hex.len().saturating_sub(8)..].to_ascii_uppercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_eight_hex_digits_in_capitals() {
        assert_eq!(order_number("01a24005-565f-74d3-a654-e3727c08f898"), "7C08F898");
        assert_eq!(order_number("abc"), "ABC");
    }
}
