//! Email addresses and display names.

/// A normalised email address (trimmed, lower-case). The check is deliberately simple: the
/// only real proof an address works is a message delivered to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    /// Normalises and checks the shape `local@domain.tld`.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let email = raw.trim().to_lowercase();
        let invalid = || "must be an email address such as ada@example.com".to_owned();
        if email.len() > 254 || email.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid());
        }
        let (local, domain) = email.split_once('@').ok_or_else(invalid)?;
        let domain_ok = domain.contains('.')
            && !domain.contains('@')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..");
        if local.is_empty() || local.len() > 64 || !domain_ok {
            return Err(invalid());
        }
        Ok(Self(email))
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
    /// Trims and checks the length.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let name = raw.trim();
        match name.chars().count() {
            0 => Err("must not be empty".into()),
            n if n > 100 => Err("must be at most 100 characters".into()),
            _ => Ok(Self(name.to_owned())),
        }
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
    fn emails_are_normalised_and_checked() {
        let cases: &[(&str, Option<&str>)] = &[
            ("  Ada@Example.COM ", Some("ada@example.com")),
            ("a.b+tag@sub.example.org", Some("a.b+tag@sub.example.org")),
            ("no-at-sign.example.com", None),
            ("@example.com", None),
            ("ada@localhost", None),
            ("ada@example..com", None),
            ("ada@@example.com", None),
            ("ad a@example.com", None),
            ("ada@.example.com", None),
        ];
        for (raw, expected) in cases {
            assert_eq!(Email::parse(raw).ok().map(|e| e.0), expected.map(str::to_owned), "{raw}");
        }
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(DisplayName::parse("  Ada  ").map(|n| n.0), Ok("Ada".to_owned()));
        assert!(DisplayName::parse(" ").is_err());
        assert!(DisplayName::parse(&"é".repeat(101)).is_err());
        assert!(DisplayName::parse(&"é".repeat(100)).is_ok(), "length counts characters, not bytes");
    }
}
