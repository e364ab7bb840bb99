//! Validation rules declared once. A domain type states what it accepts as a [`TextRule`] or
//! a [`RangeRule`] constant; its `parse` checks input with that constant, and the service's
//! spec is given the same constant's JSON Schema keywords ([`crate::edge::SchemaRule`]), so
//! the check and what the spec tells clients cannot drift apart.
//!
//! A text pattern is written once in the syntax both sides read: the `regex` crate here and
//! ECMA-262 in JSON Schema validators. The patterns keep to what the two agree on (classes,
//! `\u` escapes of four hex digits, `(?:...)` groups, bounded repeats); a test compiles every declared
//! pattern. White space a type trims is written `[ \t\n\r]*`, not `\s*`: Python's `\s`,
//! which the fuzzers generate from, also matches control characters every service refuses.

use std::{
    collections::HashMap,
    sync::{LazyLock, RwLock},
};

use regex::Regex;
use serde_json::{Map, Value, json};

/// What a string field accepts, counted on the input as sent (before a type trims or
/// changes case): the spec's `minLength`, `maxLength` and `pattern` say the same.
#[derive(Debug, Clone, Copy)]
pub struct TextRule {
    /// Fewest characters (Unicode scalar values, as JSON Schema counts them).
    pub min_chars: Option<usize>,
    /// Most characters.
    pub max_chars: Option<usize>,
    /// A pattern the whole input must match (anchored with `^...$` by the rule's author).
    pub pattern: Option<&'static str>,
    /// What the client is told when the input breaks the rule (after the field name).
    pub message: &'static str,
}

impl TextRule {
    /// Checks `raw` against the rule.
    pub fn check(&self, raw: &str) -> Result<(), String> {
        let chars = raw.chars().count();
        let long_enough = self.min_chars.is_none_or(|min| chars >= min);
        let short_enough = self.max_chars.is_none_or(|max| chars <= max);
        if long_enough && short_enough && self.pattern.is_none_or(|pattern| matches(pattern, raw)) {
            Ok(())
        } else {
            Err(self.message.to_owned())
        }
    }

    /// The JSON Schema keywords of the rule.
    pub fn schema(&self) -> Value {
        let mut keywords = Map::new();
        if let Some(min) = self.min_chars {
            keywords.insert("minLength".into(), json!(min));
        }
        if let Some(max) = self.max_chars {
            keywords.insert("maxLength".into(), json!(max));
        }
        if let Some(pattern) = self.pattern {
            keywords.insert("pattern".into(), json!(pattern));
        }
        Value::Object(keywords)
    }
}

/// What an integer field accepts: `min..=max`, the spec's `minimum` and `maximum`.
#[derive(Debug, Clone, Copy)]
pub struct RangeRule {
    /// The smallest accepted value.
    pub min: i64,
    /// The largest accepted value.
    pub max: i64,
    /// What the numbers count, for the message ("minor units"), or empty.
    pub unit: &'static str,
}

impl RangeRule {
    /// Checks `value` against the range.
    pub fn check(&self, value: i64) -> Result<(), String> {
        if (self.min..=self.max).contains(&value) { Ok(()) } else { Err(self.message()) }
    }

    /// "must be between 1 and 12", with the unit when there is one.
    pub fn message(&self) -> String {
        let Self { min, max, unit } = self;
        match unit {
            &"" => format!("must be between {min} and {max}"),
            unit => format!("must be between {min} and {max} {unit}"),
        }
    }

    /// The JSON Schema keywords of the range.
    pub fn schema(&self) -> Value {
        json!({"minimum": self.min, "maximum": self.max})
    }

    /// The keywords of a list whose length is in the range.
    pub fn items_schema(&self) -> Value {
        json!({"minItems": self.min, "maxItems": self.max})
    }
}

/// Compiled patterns, one per declared rule: a rule is a `const`, which cannot hold a
/// compiled `Regex`, and there are a few dozen of them at most.
static COMPILED: LazyLock<RwLock<HashMap<&'static str, Regex>>> = LazyLock::new(Default::default);

fn matches(pattern: &'static str, text: &str) -> bool {
    if let Some(regex) = COMPILED.read().unwrap_or_else(|e| e.into_inner()).get(pattern) {
        return regex.is_match(text);
    }
    // A pattern that does not compile is a bug in a declaration (the tests of each service
    // compile theirs); it refuses everything rather than panic on a request.
    let Ok(regex) = Regex::new(pattern) else { return false };
    let found = regex.is_match(text);
    COMPILED.write().unwrap_or_else(|e| e.into_inner()).insert(pattern, regex);
    found
}

/// Whether a declared pattern compiles in the `regex` crate; for the services' tests.
pub fn pattern_compiles(pattern: &str) -> Result<(), String> {
    Regex::new(pattern).map(drop).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const CODE: TextRule = TextRule {
        min_chars: None,
        max_chars: Some(6),
        pattern: Some(r"^[ \t\n\r]*[A-Za-z]{2,4}[ \t\n\r]*$"),
        message: "must be 2-4 letters",
    };

    #[test]
    fn a_text_rule_checks_what_its_schema_says() {
        assert_eq!(CODE.check("ab"), Ok(()));
        assert_eq!(CODE.check(" abc "), Ok(()), "the pattern allows the white space a type trims");
        assert_eq!(CODE.check("a"), Err("must be 2-4 letters".to_owned()));
        assert_eq!(CODE.check("ab1"), Err("must be 2-4 letters".to_owned()));
        assert_eq!(CODE.check("  abcd  "), Err("must be 2-4 letters".to_owned()), "8 characters as sent");
        assert_eq!(CODE.schema(), json!({"maxLength": 6, "pattern": r"^[ \t\n\r]*[A-Za-z]{2,4}[ \t\n\r]*$"}));
        let name = TextRule { min_chars: Some(1), max_chars: Some(3), pattern: None, message: "m" };
        assert_eq!(name.check("éé"), Ok(()), "characters, not bytes");
        assert!(name.check("").is_err() && name.check("abcd").is_err());
    }

    #[test]
    fn a_range_rule_checks_what_its_schema_says() {
        let month = RangeRule { min: 1, max: 12, unit: "" };
        assert_eq!(month.check(12), Ok(()));
        assert_eq!(month.check(13), Err("must be between 1 and 12".to_owned()));
        let price = RangeRule { min: 0, max: 5, unit: "minor units" };
        assert_eq!(price.check(-1), Err("must be between 0 and 5 minor units".to_owned()));
        assert_eq!(month.schema(), json!({"minimum": 1, "maximum": 12}));
        assert_eq!(month.items_schema(), json!({"minItems": 1, "maxItems": 12}));
    }

    #[test]
    fn a_broken_pattern_refuses_instead_of_panicking() {
        let broken = TextRule { min_chars: None, max_chars: None, pattern: Some("^[a-$"), message: "m" };
        assert!(broken.check("a").is_err());
        assert!(pattern_compiles("^[a-$").is_err());
        assert!(pattern_compiles(crate::edge::NON_BLANK_TEXT_PATTERN).is_ok());
        assert!(pattern_compiles(crate::edge::TEXT_PATTERN).is_ok());
    }
}
