//! Tokens that passed verification, kept until they expire.
//!
//! Only a token that passed every check (signature, algorithm, issuer, audience, expiry) is
//! stored, keyed by its exact text, so a cache hit is the same answer verification would
//! give, until `exp`. Entries are dropped at `exp` itself, without the leeway verification
//! allows. The map is bounded: when full, expired entries go first, and if none has expired
//! everything is dropped (the next requests simply verify again).

use std::{collections::HashMap, sync::Mutex};

use super::Claims;

/// At most this many tokens are remembered (a few hundred bytes each).
const CAPACITY: usize = 4096;

/// The verified tokens of one verifier.
#[derive(Debug, Default)]
pub struct VerifiedTokens {
    entries: Mutex<HashMap<String, Claims>>,
}

impl VerifiedTokens {
    /// The claims of `token` if it was verified before and has not expired at `now`.
    pub fn get(&self, token: &str, now: i64) -> Option<Claims> {
        let entries = self.entries.lock().ok()?;
        entries.get(token).filter(|claims| claims.exp > now).cloned()
    }

    /// Remembers a verified token.
    pub fn insert(&self, token: &str, claims: &Claims, now: i64) {
        let Ok(mut entries) = self.entries.lock() else { return };
        if entries.len() >= CAPACITY {
            entries.retain(|_, c| c.exp > now);
            if entries.len() >= CAPACITY {
                entries.clear();
            }
        }
        entries.insert(token.to_owned(), claims.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Role;

    fn claims(exp: i64) -> Claims {
        Claims { sub: "u".into(), role: Role::Customer, iss: "i".into(), aud: "a".into(), exp, iat: 0, jti: "j".into() }
    }

    #[test]
    fn entries_answer_until_expiry_and_the_map_stays_bounded() {
        let cache = VerifiedTokens::default();
        cache.insert("t", &claims(100), 0);
        assert_eq!(cache.get("t", 99).map(|c| c.exp), Some(100), "valid before exp");
        assert!(cache.get("t", 100).is_none(), "gone at exp");
        assert!(cache.get("other", 0).is_none(), "only the exact token");
        for i in 0..CAPACITY * 2 {
            cache.insert(&format!("t{i}"), &claims(1_000), 0);
        }
        assert!(cache.entries.lock().expect("lock").len() <= CAPACITY, "bounded");
    }
}
