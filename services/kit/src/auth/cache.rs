//! Tokens that passed verification, kept until they expire.
//!
//! Only a token that passed every check (signature, algorithm, issuer, audience, expiry) is
//! stored, keyed by its exact text, so a cache hit is the same answer verification would
//! give, until `exp`. Entries stop answering at `exp` itself, without the leeway verification
//! allows. The cache is bounded by `quick_cache`, which evicts the entries least likely to be
//! asked for again when it is full (one-off tokens first, the tokens of active sessions
//! last); an evicted token is simply verified again.

use quick_cache::sync::Cache;

use super::Claims;

/// At most this many tokens are remembered (a few hundred bytes each).
const CAPACITY: usize = 4096;

/// The verified tokens of one verifier.
pub struct VerifiedTokens {
    entries: Cache<String, Claims>,
}

impl Default for VerifiedTokens {
    fn default() -> Self {
        Self { entries: Cache::new(CAPACITY) }
    }
}

impl std::fmt::Debug for VerifiedTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifiedTokens").field("len", &self.entries.len()).finish()
    }
}

impl VerifiedTokens {
    /// The claims of `token` if it was verified before and has not expired at `now`.
    pub fn get(&self, token: &str, now: i64) -> Option<Claims> {
        let claims = self.entries.get(token)?;
        if claims.exp > now {
            Some(claims)
        } else {
            self.entries.remove(token);
            None
        }
    }

    /// Remembers a verified token.
    pub fn insert(&self, token: &str, claims: &Claims) {
        self.entries.insert(token.to_owned(), claims.clone());
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
    fn entries_answer_until_expiry() {
        let cache = VerifiedTokens::default();
        cache.insert("t", &claims(100));
        assert_eq!(cache.get("t", 99).map(|c| c.exp), Some(100), "valid before exp");
        assert!(cache.get("t", 100).is_none(), "gone at exp");
        assert!(cache.get("other", 0).is_none(), "only the exact token");
    }

    #[test]
    fn a_full_cache_keeps_the_tokens_in_use_instead_of_emptying_itself() {
        let cache = VerifiedTokens::default();
        cache.insert("session", &claims(1_000));
        for i in 0..CAPACITY * 2 {
            cache.insert(&format!("one-off-{i}"), &claims(1_000));
            // An active session's token is asked for on every request.
            assert!(cache.get("session", 0).is_some(), "evicted after {i} one-off tokens");
        }
        assert!(cache.entries.len() <= CAPACITY, "bounded: {}", cache.entries.len());
        assert!(cache.entries.len() > CAPACITY / 2, "not emptied: {}", cache.entries.len());
    }
}
