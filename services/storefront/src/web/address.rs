//! The shopper's IP address, which users counts failed log-ins against.
//!
//! Behind an Ingress or a Gateway the connection's peer is the proxy, and the shopper's address
//! is what that proxy appended to `X-Forwarded-For`. Only entries appended by trusted proxies
//! count: reading from the right, the entry the outermost trusted proxy wrote. Anything to its
//! left was written by the client and may be forged.

use std::net::IpAddr;

use poem::Request;

/// The address of the shopper making `req`, `trusted_hops` proxies in front of the storefront.
pub fn shopper_address(req: &Request, trusted_hops: usize) -> Option<IpAddr> {
    let peer = req.remote_addr().as_socket_addr().map(|a| a.ip());
    if trusted_hops == 0 {
        return peer;
    }
    let forwarded: Vec<&str> = req
        .headers()
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .collect();
    from_forwarded(&forwarded, trusted_hops).or(peer)
}

/// The entry `hops` from the right of the `X-Forwarded-For` list, when it is an IP address.
fn from_forwarded(entries: &[&str], hops: usize) -> Option<IpAddr> {
    let index = entries.len().checked_sub(hops)?;
    entries.get(index)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_entry_written_by_the_outermost_trusted_proxy_counts() {
        let ip = |s: &str| s.parse::<IpAddr>().ok();
        // One proxy: it appended the shopper's address last; what the client sent is ignored.
        assert_eq!(from_forwarded(&["6.6.6.6", "203.0.113.7"], 1), ip("203.0.113.7"));
        // Two proxies: the outer one wrote the shopper, the inner one the outer proxy.
        assert_eq!(from_forwarded(&["6.6.6.6", "203.0.113.7", "10.0.0.5"], 2), ip("203.0.113.7"));
        assert_eq!(from_forwarded(&["2001:db8::1"], 1), ip("2001:db8::1"));
        assert_eq!(from_forwarded(&[], 1), None, "no header: the peer counts");
        assert_eq!(from_forwarded(&["203.0.113.7"], 2), None, "fewer entries than proxies");
        assert_eq!(from_forwarded(&["not-an-ip"], 1), None);
    }
}
