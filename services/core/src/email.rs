//! The e-mail address rule.

/// Why an address was refused: one message, since the rule is deliberately simple.
pub const INVALID: &str = "must be an email address such as ada@example.com";

/// The longest address, in bytes of its normalised form (RFC 5321's path limit less the
/// angle brackets); the users spec's `maxLength` says the same number.
pub const MAX_LEN: usize = 254;

/// Normalises `raw` (trimmed, lower-case) and checks the shape `local@domain.tld`: at most 254
/// characters, no whitespace or control characters, one `@`, a local part of 1-64 characters,
/// and a dotted domain without empty labels at its ends or in between. Deliberately simple:
/// the only real proof an address works is a message delivered to it.
pub fn normalise(raw: &str) -> Result<String, &'static str> {
    let email = raw.trim().to_lowercase();
    if email.len() > MAX_LEN || email.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(INVALID);
    }
    let (local, domain) = email.split_once('@').ok_or(INVALID)?;
    let domain_ok = domain.contains('.')
        && !domain.contains('@')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..");
    if local.is_empty() || local.len() > 64 || !domain_ok {
        return Err(INVALID);
    }
    Ok(email)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        let long_local = format!("{}@example.com", "a".repeat(65));
        let cases: &[(&str, Option<&str>)] = &[
            ("  Ada@Example.COM ", Some("ada@example.com")),
            ("a.b+tag@sub.example.org", Some("a.b+tag@sub.example.org")),
            ("admin@example.com", Some("admin@example.com")),
            ("no-at-sign.example.com", None),
            ("@example.com", None),
            ("ada@localhost", None),
            ("ada@example..com", None),
            ("ada@@example.com", None),
            ("ada@example.com@example.org", None),
            ("ad a@example.com", None),
            ("ada@.example.com", None),
            ("ada@example.com.", None),
            ("ada\u{7}@example.com", None),
            (&long_local, None),
        ];
        for (raw, expected) in cases {
            assert_eq!(normalise(raw).ok().as_deref(), *expected, "{raw}");
        }
    }
}
