//! Email addresses and display names.

use shopkit::{edge::NON_BLANK_TEXT_PATTERN, rules::TextRule};

/// A normalised email address (trimmed, lower-case), by the rule in [`shopcore::email`], which
/// the operator also applies to the bootstrap admin's address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    /// Normalises and checks the shape `local@domain.tld`.
    pub fn parse(raw: &str) -> Result<Self, String> {
        shopcore::email::normalise(raw).map(Self).map_err(str::to_owned)
    }
    /// The address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A display name: trimmed, 1-100 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    /// At most 100 characters as sent (the spec's `maxLength` counts them so), not only white
    /// space.
    pub const RULE: TextRule = TextRule {
        min_chars: Some(1),
        max_chars: Some(100),
        pattern: Some(NON_BLANK_TEXT_PATTERN),
        message: "must be 1-100 characters, not only white space",
    };

    /// Checks [`Self::RULE`], then trims.
    pub fn parse(raw: &str) -> Result<Self, String> {
        Self::RULE.check(raw)?;
        Ok(Self(raw.trim().to_owned()))
    }
    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_follow_the_shared_rule() {
        assert_eq!(Email::parse("  Ada@Example.COM ").map(|e| e.0), Ok("ada@example.com".to_owned()));
        assert_eq!(Email::parse("ada@@example.com"), Err(shopcore::email::INVALID.to_owned()));
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(DisplayName::parse("  Ada  ").map(|n| n.0), Ok("Ada".to_owned()));
        assert!(DisplayName::parse(" ").is_err());
        assert!(DisplayName::parse(&"é".repeat(101)).is_err());
        assert!(DisplayName::parse(&"é".repeat(100)).is_ok(), "length counts characters, not bytes");
    }
}
