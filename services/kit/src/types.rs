//! Values several services accept with the same rule, parsed in one place so the rule cannot
//! drift between copies: [`IdempotencyKey`] (the header of every retry-safe POST) and
//! [`Currency`] (every amount's ISO 4217 code).

use std::borrow::Cow;

use crate::rules::{RangeRule, TextRule};
use poem_openapi::{
    registry::{MetaSchema, MetaSchemaRef},
    types::{ParseError, ParseFromParameter, ParseResult, Type},
};

/// The `Idempotency-Key` header: a client-chosen key that makes a POST safe to retry. The same
/// key with the same request returns the first result; with another request it is refused.
/// 1-255 printable ASCII characters (the longest key the payments table stores).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// Longest accepted key.
    pub const MAX_LEN: usize = 255;

    /// Trims and checks a key.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let key = raw.trim();
        let printable = key.bytes().all(|b| b.is_ascii_graphic() || b == b' ');
        if key.is_empty() || key.len() > Self::MAX_LEN || !printable {
            return Err(format!("must be 1-{} printable ASCII characters", Self::MAX_LEN));
        }
        Ok(Self(key.to_owned()))
    }

    /// The key.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The key of a call to another service made on behalf of this request:
    /// `<scope>:<SHA-256 of this key>`, within the length limit however long this key is, and
    /// distinct per scope (e.g. per order) even when clients reuse keys across scopes.
    pub fn derived_for(&self, scope: impl std::fmt::Display) -> IdempotencyKey {
        let digest = ring::digest::digest(&ring::digest::SHA256, self.0.as_bytes());
        let hex: String = digest.as_ref().iter().map(|b| format!("{b:02x}")).collect();
        IdempotencyKey(format!("{scope}:{hex}"))
    }
}

impl Type for IdempotencyKey {
    const IS_REQUIRED: bool = true;
    type RawValueType = Self;
    type RawElementValueType = Self;

    fn name() -> Cow<'static, str> {
        "IdempotencyKey".into()
    }

    fn schema_ref() -> MetaSchemaRef {
        let mut schema = MetaSchema::new("string");
        schema.min_length = Some(1);
        schema.max_length = Some(Self::MAX_LEN);
        schema.pattern = Some("^[ -~]*[!-~][ -~]*$".to_owned());
        schema.description = Some("1-255 printable ASCII characters, e.g. a UUID; one key per attempt.");
        MetaSchemaRef::Inline(Box::new(schema))
    }

    fn as_raw_value(&self) -> Option<&Self::RawValueType> {
        Some(self)
    }

    fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
        Box::new(self.as_raw_value().into_iter())
    }
}

impl ParseFromParameter for IdempotencyKey {
    fn parse_from_parameter(value: &str) -> ParseResult<Self> {
        Self::parse(value).map_err(ParseError::custom)
    }
}

/// An ISO 4217 currency code, upper case (`EUR`). Amounts are integer minor units in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Currency(String);

impl Currency {
    /// What a client may send: three letters in either case, white space around them trimmed.
    pub const RULE: TextRule = TextRule {
        min_chars: None,
        max_chars: None,
        pattern: Some(r"^[ \t\n\r]*[A-Za-z]{3}[ \t\n\r]*$"),
        message: "must be a three-letter ISO 4217 code such as EUR",
    };

    /// Checks [`Self::RULE`], then trims and upper-cases.
    pub fn parse(raw: &str) -> Result<Self, String> {
        Self::RULE.check(raw)?;
        Ok(Self(raw.trim().to_ascii_uppercase()))
    }

    /// The code.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The shape of a card number: 12-19 digits, with spaces or dashes anywhere (they are
/// ignored). Payments checks it before the checksum, and every spec that takes a card (orders
/// passes one on) states it.
pub const CARD_NUMBER_RULE: TextRule = TextRule {
    min_chars: None,
    max_chars: None,
    pattern: Some(r"^[ -]*(?:[0-9][ -]*){12,19}$"),
    message: "must be 12-19 digits",
};
/// A card's expiry month.
pub const CARD_EXP_MONTH_RULE: RangeRule = RangeRule { min: 1, max: 12, unit: "" };
/// A card's verification code: 3 or 4 digits.
pub const CARD_CVC_RULE: TextRule =
    TextRule { min_chars: None, max_chars: None, pattern: Some("^[0-9]{3,4}$"), message: "must be 3 or 4 digits" };

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_card_rules_accept_what_a_card_form_sends() {
        for rule in [CARD_NUMBER_RULE, CARD_CVC_RULE, Currency::RULE] {
            assert_eq!(rule.pattern.map_or(Ok(()), crate::rules::pattern_compiles), Ok(()), "{rule:?}");
        }
        for number in ["4242424242424242", "4242 4242 4242 4242", " 4242-4242-4242-4242 ", "424242424242"] {
            assert_eq!(CARD_NUMBER_RULE.check(number), Ok(()), "{number}");
        }
        for number in ["4242", "42424242424242424242", "4242 4242 4242 424x", ""] {
            assert!(CARD_NUMBER_RULE.check(number).is_err(), "{number}");
        }
        assert!(CARD_CVC_RULE.check("123").is_ok() && CARD_CVC_RULE.check("12345").is_err());
        assert_eq!(CARD_EXP_MONTH_RULE.check(13), Err("must be between 1 and 12".to_owned()));
    }

    #[test]
    fn idempotency_keys_are_one_to_255_printable_characters() {
        let long = "k".repeat(256);
        let cases = [
            ("order-1", Some("order-1"), "plain"),
            ("  spaced  ", Some("spaced"), "trimmed"),
            ("", None, "empty"),
            ("   ", None, "blank"),
            (long.as_str(), None, "too long"),
            ("a\u{0}b", None, "control character"),
            ("clé", None, "not ASCII"),
        ];
        for (raw, expected, message) in cases {
            assert_eq!(IdempotencyKey::parse(raw).ok().as_ref().map(IdempotencyKey::as_str), expected, "{message}");
        }
        assert!(IdempotencyKey::parse(&"k".repeat(255)).is_ok(), "255 is the limit");
    }

    #[test]
    fn currencies_are_three_letters_upper_cased() {
        assert_eq!(Currency::parse(" eur ").map(|c| c.as_str().to_owned()), Ok("EUR".to_owned()));
        for bad in ["EU", "EURO", "E1R", "€€€"] {
            assert!(Currency::parse(bad).is_err(), "{bad}");
        }
    }
}
