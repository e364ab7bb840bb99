//! PEM (RFC 7468) for the DER keys both sides generate and read.

use base64::Engine as _;

/// `der` as a PEM block labelled `label` (e.g. `PRIVATE KEY`), 64 characters a line.
pub fn encode(der: &[u8], label: &str) -> String {
    let body = base64::engine::general_purpose::STANDARD.encode(der);
    let mut pem = format!("-----BEGIN {label}-----\n");
    for line in body.as_bytes().chunks(64) {
        pem.push_str(&String::from_utf8_lossy(line));
        pem.push('\n');
    }
    pem.push_str(&format!("-----END {label}-----\n"));
    pem
}

/// The DER inside the first PEM block labelled `label`; `None` when there is no such block or
/// its body is not base64. Whitespace inside the body is ignored.
pub fn decode(pem: &str, label: &str) -> Option<Vec<u8>> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = pem.find(&begin)? + begin.len();
    let stop = pem[start..].find(&end)? + start;
    let body: String = pem[start..stop].chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD.decode(body).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_round_trips_and_wraps_at_64_characters() {
        let der: Vec<u8> = (0..=255).collect();
        let pem = encode(&der, "PUBLIC KEY");
        assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----\n") && pem.ends_with("-----END PUBLIC KEY-----\n"));
        assert!(pem.lines().all(|line| line.len() <= 64), "{pem}");
        assert_eq!(decode(&pem, "PUBLIC KEY"), Some(der));
    }

    #[test]
    fn wrong_labels_and_bad_bodies_are_refused() {
        let pem = encode(b"key", "PRIVATE KEY");
        assert_eq!(decode(&pem, "PUBLIC KEY"), None, "label");
        assert_eq!(decode("-----BEGIN PUBLIC KEY-----\n!!\n-----END PUBLIC KEY-----\n", "PUBLIC KEY"), None, "base64");
        assert_eq!(decode("-----BEGIN PUBLIC KEY-----\nAAAA\n", "PUBLIC KEY"), None, "no end line");
    }
}
