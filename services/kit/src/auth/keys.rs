//! Ed25519 key handling: PEM decoding, public key extraction, key ids and key generation.
//!
//! Keys travel as PEM because that is what `openssl genpkey -algorithm ed25519`, Kubernetes
//! Secrets and the operator all produce and store comfortably.

use base64::Engine;
use ring::signature::{Ed25519KeyPair, KeyPair};

/// The fixed DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410): the 32-byte key follows.
const ED25519_SPKI_PREFIX: [u8; 12] = [0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00];

/// A key that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// Not PEM with the expected label, or bad base64.
    #[error("not a PEM `{0}` block")]
    NotPem(&'static str),
    /// PEM, but not an Ed25519 key of the expected kind.
    #[error("not an Ed25519 {0}")]
    NotEd25519(&'static str),
    /// The system random generator failed (key generation only).
    #[error("random generator failure")]
    Random,
}

/// Decodes the body of a PEM block with the given label.
pub(crate) fn pem_to_der(pem: &str, label: &'static str) -> Result<Vec<u8>, KeyError> {
    // Kubernetes env vars and .env files sometimes carry literal `\n`; accept both forms.
    shopcore::pem::decode(&pem.replace("\\n", "\n"), label).ok_or(KeyError::NotPem(label))
}

/// The raw 32-byte public key of an SPKI PEM.
pub(crate) fn public_key_from_spki_pem(pem: &str) -> Result<[u8; 32], KeyError> {
    let der = pem_to_der(pem, "PUBLIC KEY")?;
    let key = der.strip_prefix(&ED25519_SPKI_PREFIX[..]).ok_or(KeyError::NotEd25519("public key"))?;
    key.try_into().map_err(|_| KeyError::NotEd25519("public key"))
}

/// The public key belonging to a PKCS#8 private key (v1 or v2).
pub(crate) fn public_key_of_pkcs8(der: &[u8]) -> Result<[u8; 32], KeyError> {
    let pair = Ed25519KeyPair::from_pkcs8_maybe_unchecked(der).map_err(|_| KeyError::NotEd25519("private key"))?;
    pair.public_key().as_ref().try_into().map_err(|_| KeyError::NotEd25519("private key"))
}

/// A short stable key id: base64url of the first 12 bytes of the key's SHA-256.
pub(crate) fn key_id_of(public_key: &[u8; 32]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, public_key);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest.as_ref()[..12])
}

/// A freshly generated key pair, both halves PEM-encoded.
#[derive(Clone)]
pub struct KeyPairPem {
    /// PKCS#8 private key (`JWT_PRIVATE_KEY`).
    pub private_pem: String,
    /// SPKI public key (`JWT_PUBLIC_KEY`).
    pub public_pem: String,
}

impl std::fmt::Debug for KeyPairPem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyPairPem").field("public_pem", &self.public_pem).finish_non_exhaustive()
    }
}

/// Generates an Ed25519 key pair from the system CSPRNG (tests and `cargo xtask dev`).
pub fn generate_key_pair() -> Result<KeyPairPem, KeyError> {
    let rng = ring::rand::SystemRandom::new();
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).map_err(|_| KeyError::Random)?;
    let public = public_key_of_pkcs8(pkcs8.as_ref())?;
    let mut spki = ED25519_SPKI_PREFIX.to_vec();
    spki.extend_from_slice(&public);
    Ok(KeyPairPem {
        private_pem: shopcore::pem::encode(pkcs8.as_ref(), "PRIVATE KEY"),
        public_pem: shopcore::pem::encode(&spki, "PUBLIC KEY"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_public_pem_round_trips_to_the_private_keys_public_half() {
        let pair = generate_key_pair().expect("generate");
        let from_public = public_key_from_spki_pem(&pair.public_pem).expect("public");
        let from_private =
            public_key_of_pkcs8(&pem_to_der(&pair.private_pem, "PRIVATE KEY").expect("der")).expect("pkcs8");
        assert_eq!(from_public, from_private);
    }

    #[test]
    fn openssl_generated_v1_keys_are_accepted() {
        // `openssl genpkey -algorithm ed25519` (PKCS#8 v1) and its `openssl pkey -pubout`.
        let private = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEINqurwOwqF9zaVXszSk1RfBqZzFNJL07MOIpWJfVMCXX\n-----END PRIVATE KEY-----\n";
        let public = "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAoH8f796yftl1W0qqB2819WD7eahHiMyz9KRQ9nKUAlo=\n-----END PUBLIC KEY-----\n";
        let der = pem_to_der(private, "PRIVATE KEY").expect("der");
        let derived = public_key_of_pkcs8(&der).expect("v1 pkcs8 accepted");
        assert_eq!(public_key_from_spki_pem(public).expect("spki"), derived);
    }

    #[test]
    fn rejects_wrong_labels_and_garbage() {
        let pair = generate_key_pair().expect("generate");
        assert!(matches!(public_key_from_spki_pem(&pair.private_pem), Err(KeyError::NotPem(_))));
        assert!(matches!(pem_to_der("hello", "PUBLIC KEY"), Err(KeyError::NotPem(_))));
        let not_ed25519 = shopcore::pem::encode(&[0x30, 0x03, 0x02, 0x01, 0x00], "PUBLIC KEY");
        assert!(matches!(public_key_from_spki_pem(&not_ed25519), Err(KeyError::NotEd25519(_))));
    }

    #[test]
    fn escaped_newlines_from_env_files_are_accepted() {
        let pair = generate_key_pair().expect("generate");
        let escaped = pair.public_pem.replace('\n', "\\n");
        assert!(public_key_from_spki_pem(&escaped).is_ok());
    }
}
