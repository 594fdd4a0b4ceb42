//! Stage: anonymise. Input: the client IP as the edge saw it. Output: the address truncated to its
//! network (IPv4 /24, IPv6 /48) — the only form of the address any later stage may read.
//! Must not: return, log or store the full address.

use std::net::IpAddr;

/// The truncated address as text (`203.0.113.0`, `2001:db8:1::`), or empty when none or unparsable.
pub fn ip(client_ip: Option<&str>) -> String {
    let Some(parsed) = client_ip.and_then(|ip| ip.trim().parse::<IpAddr>().ok()) else {
        return String::new();
    };
    match parsed {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            std::net::Ipv4Addr::new(a, b, c, 0).to_string()
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return ip(Some(&v4.to_string()));
            }
            let s = v6.segments();
            std::net::Ipv6Addr::new(s[0], s[1], s[2], 0, 0, 0, 0, 0).to_string()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncates_v4_to_24_and_v6_to_48() {
        assert_eq!(ip(Some("203.0.113.77")), "203.0.113.0");
        assert_eq!(ip(Some("2001:db8:abcd:12:1:2:3:4")), "2001:db8:abcd::");
        assert_eq!(ip(Some("::ffff:198.51.100.9")), "198.51.100.0");
        assert_eq!(ip(Some("not an ip")), "");
        assert_eq!(ip(None), "");
    }
}
