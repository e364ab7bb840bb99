//! PEM (RFC 7468) for the DER keys both sides generate and read.
//!
//! The framing and base64 are the `pem` crate's; what lives here is the policy the kit and the
//! operator must share: `\n` line endings (the crate defaults to `\r\n`, which would put
//! carriage returns into Kubernetes Secrets and environment variables) and picking a block by
//! its label, so a bundle holding a certificate before the key still works.

use pem::{EncodeConfig, LineEnding, Pem};

/// `der` as a PEM block labelled `label` (e.g. `PRIVATE KEY`), 64 characters a line, `\n` ends.
pub fn encode(der: &[u8], label: &str) -> String {
    pem::encode_config(&Pem::new(label, der), EncodeConfig::new().set_line_ending(LineEnding::LF))
}

/// The DER inside the first PEM block labelled `label`; `None` when there is no such block or
/// the text is not well-formed PEM. Whitespace inside the body is ignored.
pub fn decode(text: &str, label: &str) -> Option<Vec<u8>> {
    pem::parse_many(text).ok()?.into_iter().find(|block| block.tag() == label).map(Pem::into_contents)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_round_trips_and_wraps_at_64_characters() {
        let der: Vec<u8> = (0..=255).collect();
        let pem = encode(&der, "PUBLIC KEY");
        assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----\n") && pem.ends_with("-----END PUBLIC KEY-----\n"));
        assert!(!pem.contains('\r'), "{pem:?}");
        assert!(pem.lines().all(|line| line.len() <= 64), "{pem}");
        assert_eq!(decode(&pem, "PUBLIC KEY"), Some(der));
    }

    #[test]
    fn the_block_with_the_label_is_picked_from_a_bundle() {
        let bundle = encode(b"certificate", "CERTIFICATE") + &encode(b"key", "PRIVATE KEY");
        assert_eq!(decode(&bundle, "PRIVATE KEY"), Some(b"key".to_vec()));
        assert_eq!(decode(&bundle.replace('\n', "\r\n"), "PRIVATE KEY"), Some(b"key".to_vec()), "CRLF input");
    }

    #[test]
    fn wrong_labels_and_bad_bodies_are_refused() {
        let pem = encode(b"key", "PRIVATE KEY");
        assert_eq!(decode(&pem, "PUBLIC KEY"), None, "label");
        assert_eq!(decode("-----BEGIN PUBLIC KEY-----\n!!\n-----END PUBLIC KEY-----\n", "PUBLIC KEY"), None, "base64");
        assert_eq!(decode("-----BEGIN PUBLIC KEY-----\nAAAA\n", "PUBLIC KEY"), None, "no end line");
    }
}
