//! Passwords: the strength rule and argon2id hashing.
//!
//! Hashing uses argon2id with the OWASP Password Storage Cheat Sheet's first recommended
//! configuration (19 MiB memory, 2 iterations, 1 lane). It takes tens of milliseconds of CPU
//! on purpose, so callers run it on the blocking pool, never on an async worker thread.

use shopkit::rules::TextRule;

use argon2::{
    Algorithm, Argon2, Params, PasswordHash, PasswordHasher, PasswordVerifier, Version,
    password_hash::{SaltString, rand_core::OsRng},
};

/// Shortest accepted password. Length is what makes a password hard to guess (NIST SP 800-63B);
/// composition rules are not imposed.
pub const MIN_PASSWORD_CHARS: usize = 10;
/// Longest accepted password (bounds the hashing cost of a request).
pub const MAX_PASSWORD_CHARS: usize = 128;

/// The length rule, the part of the strength rule a spec can state.
pub const LENGTH_RULE: TextRule = TextRule {
    min_chars: Some(MIN_PASSWORD_CHARS),
    max_chars: Some(MAX_PASSWORD_CHARS),
    pattern: None,
    message: "must be 10-128 characters",
};

/// Passwords so common that length alone does not save them.
const COMMON_PASSWORDS: &[&str] = &[
    "1234567890",
    "12345678910",
    "123456789012",
    "0123456789",
    "qwertyuiop",
    "1q2w3e4r5t",
    "password123",
    "password1234",
    "passwordpassword",
    "iloveyou123",
    "qwerty123456",
    "abcdefghij",
    "letmein1234",
    "administrator",
    "welcome1234",
];

/// A password that passed the strength rule. Not `Debug`, so it cannot end up in logs.
pub struct Password(String);

impl Password {
    /// Checks length, a list of very common passwords, and that it is not the email itself.
    pub fn parse(raw: &str, email: Option<&str>) -> Result<Self, String> {
        LENGTH_RULE.check(raw)?;
        let lowered = raw.to_lowercase();
        let single_char = raw.chars().all(|c| raw.starts_with(c));
        if single_char || COMMON_PASSWORDS.contains(&lowered.as_str()) {
            return Err("is too common; choose a longer or less predictable password".into());
        }
        if email.is_some_and(|e| lowered == e || e.split('@').next() == Some(lowered.as_str())) {
            return Err("must not be your email address".into());
        }
        Ok(Self(raw.to_owned()))
    }
    /// The password, for hashing.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

fn hasher() -> Argon2<'static> {
    // The parameters are constants within argon2's accepted ranges.
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashing failed (only on an internal argon2 error).
#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(String);

/// A PHC-format argon2id hash with a fresh random salt. Blocking: call on the blocking pool.
pub fn hash_password(password: &str) -> Result<String, HashError> {
    let salt = SaltString::generate(&mut OsRng);
    hasher().hash_password(password.as_bytes(), &salt).map(|h| h.to_string()).map_err(|e| HashError(e.to_string()))
}

/// Whether `password` matches `hash`. Blocking: call on the blocking pool.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| hasher().verify_password(password.as_bytes(), &parsed).is_ok())
}

/// A valid hash of a random password, verified against when an email is unknown so that a
/// login for a missing account costs the same time as one with a wrong password.
pub const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$1wY4Tq7ugxPNJmB3yhXSrUuWTq3ID0shmXvUxr7TmrA";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strength_rule_table() {
        let cases: &[(&str, Option<&str>, bool, &str)] = &[
            ("short1", None, false, "too short"),
            ("correct horse battery", None, true, "a passphrase"),
            ("Password123", None, false, "common, case-insensitively"),
            ("aaaaaaaaaaaa", None, false, "one repeated character"),
            ("ada@example.com", Some("ada@example.com"), false, "the email"),
            ("adalovelace", Some("adalovelace@example.com"), false, "the email's local part"),
            (&"x1".repeat(65), None, false, "too long"),
        ];
        for (raw, email, ok, message) in cases {
            assert_eq!(Password::parse(raw, *email).is_ok(), *ok, "{message}");
        }
    }

    #[test]
    fn hashes_are_argon2id_salted_and_verify() {
        let first = hash_password("correct horse battery").expect("hash");
        let second = hash_password("correct horse battery").expect("hash");
        assert!(first.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{first}");
        assert_ne!(first, second, "each hash has its own salt");
        assert!(verify_password("correct horse battery", &first));
        assert!(!verify_password("correct horse battery!", &first));
        assert!(!verify_password("anything", "not a hash"));
    }

    #[test]
    fn dummy_hash_parses_so_unknown_emails_cost_a_real_verification() {
        assert!(PasswordHash::new(DUMMY_HASH).is_ok());
        assert!(!verify_password("correct horse battery", DUMMY_HASH));
    }
}
