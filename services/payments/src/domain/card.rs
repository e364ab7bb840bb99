//! Card validation: number (Luhn), expiry, CVC, brand.

use chrono::{Datelike, NaiveDate};
use shopkit::{
    FieldErrors,
    types::{CARD_CVC_RULE, CARD_EXP_MONTH_RULE, CARD_NUMBER_RULE},
};

/// A card as submitted for one charge. Deliberately not `Debug`: the number and CVC must
/// never reach a log line or a span.
pub struct Card {
    number: String,
    /// Brand derived from the number's prefix.
    pub brand: CardBrand,
}

impl Card {
    /// The last four digits, the only part of the number that is stored.
    pub fn last4(&self) -> &str {
        &self.number[self.number.len() - 4..]
    }
    /// The full number, for the simulated network decision only.
    pub(crate) fn number(&self) -> &str {
        &self.number
    }
}

/// Card brands recognised from the number's prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CardBrand {
    /// Starts with 4.
    Visa,
    /// 51-55 or 2221-2720.
    Mastercard,
    /// 34 or 37.
    Amex,
    /// Anything else that passes Luhn.
    Unknown,
}

impl CardBrand {
    /// Stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Visa => "visa",
            Self::Mastercard => "mastercard",
            Self::Amex => "amex",
            Self::Unknown => "unknown",
        }
    }

    fn of(number: &str) -> Self {
        let prefix = |n: usize| number.get(..n).and_then(|p| p.parse::<u32>().ok()).unwrap_or(0);
        match (prefix(1), prefix(2), prefix(4)) {
            (4, _, _) => Self::Visa,
            (_, 51..=55, _) | (_, _, 2221..=2720) => Self::Mastercard,
            (_, 34 | 37, _) => Self::Amex,
            _ => Self::Unknown,
        }
    }
}

/// The Luhn checksum (ISO/IEC 7812-1) that every card number carries.
pub fn luhn_valid(digits: &str) -> bool {
    let mut sum = 0;
    for (i, c) in digits.chars().rev().enumerate() {
        let Some(mut d) = c.to_digit(10) else { return false };
        if i % 2 == 1 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    sum % 10 == 0
}

/// Raw card fields as the client sent them.
pub struct RawCard<'a> {
    /// Card number; spaces and dashes are ignored.
    pub number: &'a str,
    /// 1-12.
    pub exp_month: u32,
    /// Four-digit year.
    pub exp_year: i32,
    /// 3 or 4 digits.
    pub cvc: &'a str,
}

/// Validates a card against `today`: 12-19 digits passing Luhn, an expiry month not in the
/// past, a 3-4 digit CVC. Every bad field is reported.
pub fn parse_card(raw: RawCard<'_>, today: NaiveDate) -> Result<Card, FieldErrors> {
    let mut errors = FieldErrors::default();
    let number: String = raw.number.chars().filter(|c| *c != ' ' && *c != '-').collect();
    if let Err(message) = CARD_NUMBER_RULE.check(raw.number) {
        errors.add("card.number", message);
    } else if !luhn_valid(&number) {
        errors.add("card.number", "is not a valid card number (checksum)");
    }
    if let Err(message) = CARD_EXP_MONTH_RULE.check(i64::from(raw.exp_month)) {
        errors.add("card.exp_month", message);
    } else if (raw.exp_year, raw.exp_month) < (today.year(), today.month()) {
        errors.add("card.exp_year", "the card has expired");
    } else if raw.exp_year > today.year() + 20 {
        errors.add("card.exp_year", "is too far in the future");
    }
    if let Err(message) = CARD_CVC_RULE.check(raw.cvc) {
        errors.add("card.cvc", message);
    }
    if errors.is_empty() { Ok(Card { brand: CardBrand::of(&number), number }) } else { Err(errors) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 24).expect("date")
    }

    fn fields(raw: RawCard<'_>) -> Vec<String> {
        match parse_card(raw, today()) {
            Ok(_) => vec![],
            Err(e) => e.into_vec().into_iter().map(|e| e.field).collect(),
        }
    }

    #[test]
    fn luhn_table() {
        for (number, valid) in [
            ("4242424242424242", true),
            ("4242424242424241", false),
            ("4000000000000002", true),
            ("79927398713", true),
            ("79927398710", false),
            ("12a4", false),
        ] {
            assert_eq!(luhn_valid(number), valid, "{number}");
        }
    }

    #[test]
    fn card_validation_table() {
        let ok = RawCard { number: "4242 4242 4242 4242", exp_month: 11, exp_year: 2026, cvc: "123" };
        assert!(fields(ok).is_empty(), "this month is still valid");
        let cases: &[(RawCard<'_>, &[&str], &str)] = &[
            (
                RawCard { number: "4242424242424241", exp_month: 12, exp_year: 2030, cvc: "123" },
                &["card.number"],
                "bad checksum",
            ),
            (RawCard { number: "4242", exp_month: 12, exp_year: 2030, cvc: "123" }, &["card.number"], "too short"),
            (
                RawCard { number: "4242424242424242", exp_month: 10, exp_year: 2026, cvc: "123" },
                &["card.exp_year"],
                "expired last month",
            ),
            (
                RawCard { number: "4242424242424242", exp_month: 13, exp_year: 2030, cvc: "123" },
                &["card.exp_month"],
                "month 13",
            ),
            (
                RawCard { number: "4242424242424242", exp_month: 1, exp_year: 2030, cvc: "12" },
                &["card.cvc"],
                "short cvc",
            ),
            (
                RawCard { number: "x", exp_month: 0, exp_year: 2030, cvc: "abcd" },
                &["card.number", "card.exp_month", "card.cvc"],
                "everything",
            ),
        ];
        for (raw, expected, message) in cases {
            let raw = RawCard { number: raw.number, exp_month: raw.exp_month, exp_year: raw.exp_year, cvc: raw.cvc };
            assert_eq!(fields(raw), *expected, "{message}");
        }
    }

    #[test]
    fn brands_from_prefixes() {
        for (number, brand) in [
            ("4242424242424242", CardBrand::Visa),
            ("5555555555554444", CardBrand::Mastercard),
            ("2223003122003222", CardBrand::Mastercard),
            ("378282246310005", CardBrand::Amex),
            ("6011111111111117", CardBrand::Unknown),
        ] {
            assert_eq!(CardBrand::of(number), brand, "{number}");
        }
    }
}
