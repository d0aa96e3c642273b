//! Outbound URLs: https only unless the council allows plain http for the host; never a private,
//! loopback, link-local or otherwise special address unless configuration allows private
//! addresses (tests allow loopback this way). The host is resolved and every address it resolves
//! to is checked; the worker then connects to the checked address only (no second lookup).

use std::net::{IpAddr, SocketAddr};

use url::Url;

/// Why a URL may not be called.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    #[error("not a valid absolute URL")]
    Malformed,
    #[error("must use https (http is allowed only for hosts the council allows)")]
    NotHttps,
    #[error("must not carry a user name or password")]
    Credentials,
    #[error("the host does not resolve")]
    Unresolved,
    #[error("the host resolves to a private, loopback or link-local address")]
    Private,
}

/// A URL parsed and checked for form (not yet resolved).
pub fn parse(url: &str, http_hosts: &[String]) -> Result<Url, AddressError> {
    let parsed = Url::parse(url.trim()).map_err(|_| AddressError::Malformed)?;
    let host = parsed
        .host_str()
        .ok_or(AddressError::Malformed)?
        .to_ascii_lowercase();
    match parsed.scheme() {
        "https" => {}
        "http" if http_hosts.contains(&host) => {}
        _ => return Err(AddressError::NotHttps),
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(AddressError::Credentials);
    }
    Ok(parsed)
}

/// Whether an address is one an outbound call must not reach (unless private ones are allowed).
pub fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || o[0] == 0
                // 100.64.0.0/10, carrier-grade NAT.
                || (o[0] == 100 && (o[1] & 0xc0) == 64)
                // 198.18.0.0/15, benchmarking.
                || (o[0] == 198 && (o[1] & 0xfe) == 18)
                || o[0] >= 240
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_private(IpAddr::V4(v4));
            }
            let s = v6.segments();
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                // fc00::/7 unique local, fe80::/10 link-local.
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
                // 2001:db8::/32 documentation.
                || (s[0] == 0x2001 && s[1] == 0x0db8)
        }
    }
}

/// Resolves the URL's host and checks every address: the one to connect to.
pub async fn resolve(url: &Url, allow_private: bool) -> Result<SocketAddr, AddressError> {
    let host = url.host_str().ok_or(AddressError::Malformed)?;
    let port = url.port_or_known_default().ok_or(AddressError::Malformed)?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let addrs: Vec<SocketAddr> = match host.parse::<IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, port)],
        Err(_) => tokio::net::lookup_host((host, port))
            .await
            .map_err(|_| AddressError::Unresolved)?
            .collect(),
    };
    let first = *addrs.first().ok_or(AddressError::Unresolved)?;
    if !allow_private && addrs.iter().any(|a| is_private(a.ip())) {
        return Err(AddressError::Private);
    }
    Ok(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_addresses_are_private() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(is_private(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["93.184.216.34", "2606:4700::1111"] {
            assert!(!is_private(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn http_only_for_allowed_hosts() {
        assert_eq!(
            parse("http://example.org/x", &[]),
            Err(AddressError::NotHttps)
        );
        assert!(parse("http://example.org/x", &["example.org".into()]).is_ok());
        assert!(parse("https://example.org/x", &[]).is_ok());
        assert_eq!(
            parse("ftp://example.org/x", &[]),
            Err(AddressError::NotHttps)
        );
        assert_eq!(parse("nonsense", &[]), Err(AddressError::Malformed));
        assert_eq!(
            parse("https://a:b@example.org/", &[]),
            Err(AddressError::Credentials)
        );
    }
}
