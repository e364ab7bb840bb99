//! A postal address and its rules, shared by the services that take one: users keeps each
//! account's addresses, orders snapshots the one an order goes to. One set of rules, so an
//! address users accepted is never refused by orders.

use crate::{edge::NON_BLANK_TEXT_PATTERN, edge::SchemaRule, problem::FieldErrors, rules::TextRule};

/// A checked address: every field trimmed, `line2` possibly empty, the country in capitals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    pub recipient: String,
    pub line1: String,
    pub line2: String,
    pub postal_code: String,
    pub city: String,
    /// ISO 3166-1 alpha-2, upper case.
    pub country: String,
}

/// An address as a client sent it.
#[derive(Debug, Clone, Copy)]
pub struct RawAddress<'a> {
    pub recipient: &'a str,
    pub line1: &'a str,
    pub line2: &'a str,
    pub postal_code: &'a str,
    pub city: &'a str,
    pub country: &'a str,
}

const fn text(max: usize, message: &'static str) -> TextRule {
    TextRule { min_chars: Some(1), max_chars: Some(max), pattern: Some(NON_BLANK_TEXT_PATTERN), message }
}

/// The rules of each field (the services' migrations state them as CHECKs too).
pub const RECIPIENT_RULE: TextRule = text(100, "must be 1 to 100 characters");
pub const LINE1_RULE: TextRule = text(200, "must be 1 to 200 characters");
pub const LINE2_RULE: TextRule =
    TextRule { min_chars: None, max_chars: Some(200), pattern: None, message: "must be at most 200 characters" };
pub const POSTAL_CODE_RULE: TextRule = text(20, "must be 1 to 20 characters");
pub const CITY_RULE: TextRule = text(100, "must be 1 to 100 characters");
pub const COUNTRY_RULE: TextRule = TextRule {
    min_chars: Some(2),
    max_chars: Some(2),
    pattern: Some("^[A-Za-z]{2}$"),
    message: "must be a two-letter country code, e.g. FR",
};

impl Address {
    /// Checks every field of `raw`, adding each refusal to `errors` as `<prefix><field>`
    /// (e.g. `delivery.address.city`); `None` when any was refused.
    pub fn parse(raw: &RawAddress<'_>, prefix: &str, errors: &mut FieldErrors) -> Option<Self> {
        let before = errors.len();
        // Checked as sent, then trimmed: the rules (and the spec's `maxLength`) count the input a
        // client wrote, so a value too long with its white space is refused, not trimmed to fit.
        let mut field = |name: &str, rule: &TextRule, value: &str| {
            if let Err(message) = rule.check(value) {
                errors.add(format!("{prefix}{name}"), message);
            }
            value.trim().to_owned()
        };
        let address = Self {
            recipient: field("recipient", &RECIPIENT_RULE, raw.recipient),
            line1: field("line1", &LINE1_RULE, raw.line1),
            line2: field("line2", &LINE2_RULE, raw.line2),
            postal_code: field("postal_code", &POSTAL_CODE_RULE, raw.postal_code),
            city: field("city", &CITY_RULE, raw.city),
            country: field("country", &COUNTRY_RULE, raw.country).to_ascii_uppercase(),
        };
        (errors.len() == before).then_some(address)
    }
}

/// The rules of the fields of `schema` (an address body), for the spec.
pub fn schema_rules(schema: &'static str) -> Vec<SchemaRule> {
    let rules = [
        ("recipient", RECIPIENT_RULE),
        ("line1", LINE1_RULE),
        ("line2", LINE2_RULE),
        ("postal_code", POSTAL_CODE_RULE),
        ("city", CITY_RULE),
        ("country", COUNTRY_RULE),
    ];
    rules.into_iter().map(|(field, rule)| SchemaRule::Field(schema, field, rule.schema())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_count_the_value_as_sent() {
        let raw = RawAddress {
            recipient: "Ada",
            line1: "1 rue de la Paix",
            line2: "",
            postal_code: "\t75011***************",
            city: "Paris",
            country: "FR",
        };
        let mut errors = FieldErrors::default();
        assert!(Address::parse(&raw, "", &mut errors).is_none(), "21 characters as sent, 20 once trimmed");
        let fits = RawAddress { postal_code: " 75011 ", ..raw };
        let mut errors = FieldErrors::default();
        assert_eq!(Address::parse(&fits, "", &mut errors).map(|a| a.postal_code), Some("75011".to_owned()));
    }

    #[test]
    fn an_address_is_checked_field_by_field() {
        let raw = RawAddress {
            recipient: " Ada Lovelace ",
            line1: "12 rue des Lilas",
            line2: "",
            postal_code: "75011",
            city: "Paris",
            country: "fr",
        };
        let mut errors = FieldErrors::default();
        let address = Address::parse(&raw, "", &mut errors).expect("valid");
        assert_eq!((address.recipient.as_str(), address.country.as_str()), ("Ada Lovelace", "FR"));
        let bad = RawAddress { recipient: "  ", city: "", country: "France", ..raw };
        assert_eq!(Address::parse(&bad, "address.", &mut errors), None);
        let fields: Vec<String> = errors.into_vec().into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["address.recipient", "address.city", "address.country"]);
    }
}
