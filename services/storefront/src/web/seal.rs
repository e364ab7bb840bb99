//! Sealing a shopper's refresh token with a key only their browser holds.
//!
//! The sessions table is keyed by the SHA-256 of the cookie value, so a copy of it hands out
//! no session. A refresh token stored in the clear would undo that: it logs its holder in for
//! days. So it is stored encrypted (ChaCha20-Poly1305) under a key derived from the cookie
//! value, which the storefront only sees while that browser makes a request.

use ring::{
    aead::{self, Aad, LessSafeKey, Nonce, UnboundKey},
    digest,
    rand::{SecureRandom, SystemRandom},
};

/// Domain separation: the key is not the session id's hash under another name.
const KEY_CONTEXT: &[u8] = b"microshop storefront refresh-token seal v1\0";

/// Why a sealed token could not be opened (another cookie, a damaged row).
#[derive(Debug, thiserror::Error)]
#[error("the refresh token cannot be opened with this session's key")]
pub struct SealError;

fn key_for(cookie_value: &str) -> Result<LessSafeKey, SealError> {
    let mut context = digest::Context::new(&digest::SHA256);
    context.update(KEY_CONTEXT);
    context.update(cookie_value.as_bytes());
    let key = UnboundKey::new(&aead::CHACHA20_POLY1305, context.finish().as_ref()).map_err(|_| SealError)?;
    Ok(LessSafeKey::new(key))
}

/// `nonce || ciphertext || tag` of `token` under the key of `cookie_value`.
pub fn seal(cookie_value: &str, token: &str) -> Result<Vec<u8>, SealError> {
    let key = key_for(cookie_value)?;
    let mut nonce = [0u8; aead::NONCE_LEN];
    SystemRandom::new().fill(&mut nonce).map_err(|_| SealError)?;
    let mut sealed = token.as_bytes().to_vec();
    key.seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::empty(), &mut sealed)
        .map_err(|_| SealError)?;
    let mut out = nonce.to_vec();
    out.extend_from_slice(&sealed);
    Ok(out)
}

/// The token [`seal`] sealed for the same cookie value.
pub fn open(cookie_value: &str, sealed: &[u8]) -> Result<String, SealError> {
    if sealed.len() < aead::NONCE_LEN {
        return Err(SealError);
    }
    let (nonce, ciphertext) = sealed.split_at(aead::NONCE_LEN);
    let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| SealError)?;
    let mut buffer = ciphertext.to_vec();
    let plain = key_for(cookie_value)?.open_in_place(nonce, Aad::empty(), &mut buffer).map_err(|_| SealError)?;
    String::from_utf8(plain.to_vec()).map_err(|_| SealError)
}

#[cfg(test)]
mod tests {
    use super::*;

    const COOKIE: &str = "n2b3k4l5m6n7o8p9q0r1s2t3u4v5w6x7y8z9A0B1C2D";

    #[test]
    fn a_sealed_token_opens_with_its_cookie_only() {
        let sealed = seal(COOKIE, "refresh-token-value").expect("seal");
        assert!(!sealed.windows(7).any(|w| w == b"refresh"), "the token is not stored in the clear");
        assert_eq!(open(COOKIE, &sealed).expect("open"), "refresh-token-value");
        let other_cookie = COOKIE.replace('n', "m");
        assert!(open(&other_cookie, &sealed).is_err(), "another session's key");
        let mut damaged = sealed.clone();
        let last = damaged.len() - 1;
        damaged[last] ^= 1;
        assert!(open(COOKIE, &damaged).is_err(), "a damaged row");
        assert!(open(COOKIE, &sealed[..5]).is_err(), "too short to hold a nonce");
        assert_ne!(seal(COOKIE, "refresh-token-value").expect("seal"), sealed, "a fresh nonce each time");
    }
}
