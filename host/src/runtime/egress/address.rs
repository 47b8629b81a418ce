//! Which IP addresses a plugin's outgoing request may reach.
//!
//! The egress gate resolves a destination's name in the host and checks every address
//! here *after* resolution, then connects to exactly the address it checked, so a
//! plugin cannot reach the host's own network by naming it (directly, through a DNS
//! name that points inside, or through an IPv6 form that embeds an IPv4 address).
//! Operators may mark a host local (e.g. an Ollama on `localhost:11434`); that
//! exception is decided by the gate, not here.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Why an address is off limits, or `None` for a public unicast address.
///
/// Refused: unspecified, loopback, private (RFC 1918), carrier-grade NAT, link-local
/// (including the cloud metadata address 169.254.169.254), unique-local IPv6 (including
/// AWS's fd00:ec2::254), multicast, broadcast, reserved and documentation ranges,
/// benchmarking, and IPv6 forms that carry an IPv4 address (mapped, compatible, NAT64,
/// 6to4) when the embedded address is refused — plus Teredo tunnels outright.
pub fn forbidden_reason(address: IpAddr) -> Option<&'static str> {
    match address {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => forbidden_v6(v6),
    }
}

/// The reason given for a cloud metadata address.
pub const METADATA: &str = "cloud metadata address";

fn forbidden_v4(address: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = address.octets();
    let reason = if address == Ipv4Addr::new(169, 254, 169, 254) {
        METADATA
    } else if a == 0 {
        "unspecified or this-network address"
    } else if a == 127 {
        "loopback address"
    } else if a == 10 || (a == 172 && (16..=31).contains(&b)) || (a == 192 && b == 168) {
        "private address"
    } else if a == 100 && (64..=127).contains(&b) {
        "carrier-grade NAT address"
    } else if a == 169 && b == 254 {
        "link-local address"
    } else if a == 192 && b == 0 && c == 0 {
        "IETF protocol assignment"
    } else if (a == 192 && b == 0 && c == 2) || (a == 198 && b == 51 && c == 100) || (a == 203 && b == 0 && c == 113) {
        "documentation address"
    } else if a == 192 && b == 88 && c == 99 {
        "6to4 relay address"
    } else if a == 198 && (b == 18 || b == 19) {
        "benchmarking address"
    } else if (224..=239).contains(&a) {
        "multicast address"
    } else if address == Ipv4Addr::BROADCAST {
        "broadcast address"
    } else if a >= 240 {
        "reserved address"
    } else {
        return None;
    };
    Some(reason)
}

fn forbidden_v6(address: Ipv6Addr) -> Option<&'static str> {
    let segments = address.segments();
    let embedded_v4 = |high: u16, low: u16| Ipv4Addr::from((u32::from(high) << 16) | u32::from(low));
    if address == Ipv6Addr::new(0xfd00, 0x0ec2, 0, 0, 0, 0, 0, 0x0254) {
        return Some(METADATA);
    }
    if address.is_unspecified() {
        return Some("unspecified address");
    }
    if address.is_loopback() {
        return Some("loopback address");
    }
    match segments {
        // ::ffff:a.b.c.d (mapped) and ::a.b.c.d (compatible): judged by the IPv4 inside.
        [0, 0, 0, 0, 0, 0xffff, high, low] | [0, 0, 0, 0, 0, 0, high, low] => {
            return forbidden_v4(embedded_v4(high, low));
        }
        // NAT64 well-known prefix: judged by the IPv4 inside.
        [0x64, 0xff9b, 0, 0, 0, 0, high, low] => return forbidden_v4(embedded_v4(high, low)),
        _ => {}
    }
    let reason = match segments[0] {
        0x64 if segments[1] == 0xff9b && segments[2] == 1 => "local-use NAT64 address",
        0x100 if segments[1..4] == [0, 0, 0] => "discard-only address",
        0x2001 if segments[1] == 0 => "Teredo tunnel address",
        0x2001 if segments[1] == 0x0db8 => "documentation address",
        0x2002 => return forbidden_v4(embedded_v4(segments[1], segments[2])),
        first if first & 0xfe00 == 0xfc00 => "unique-local address",
        first if first & 0xffc0 == 0xfe80 => "link-local address",
        first if first & 0xffc0 == 0xfec0 => "site-local address",
        first if first & 0xff00 == 0xff00 => "multicast address",
        _ => return None,
    };
    Some(reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(address: &str) -> Option<&'static str> {
        forbidden_reason(address.parse().expect("an IP address"))
    }

    #[test]
    fn internal_ipv4_is_refused_with_its_reason() {
        for (address, expected) in [
            ("0.0.0.0", "unspecified or this-network address"),
            ("127.0.0.1", "loopback address"),
            ("127.255.255.254", "loopback address"),
            ("10.1.2.3", "private address"),
            ("172.16.0.1", "private address"),
            ("172.31.255.255", "private address"),
            ("192.168.1.1", "private address"),
            ("100.64.0.1", "carrier-grade NAT address"),
            ("100.127.255.255", "carrier-grade NAT address"),
            ("169.254.169.254", "cloud metadata address"),
            ("169.254.1.1", "link-local address"),
            ("192.0.0.8", "IETF protocol assignment"),
            ("192.0.2.1", "documentation address"),
            ("198.18.0.1", "benchmarking address"),
            ("224.0.0.1", "multicast address"),
            ("240.0.0.1", "reserved address"),
            ("255.255.255.255", "broadcast address"),
        ] {
            assert_eq!(reason(address), Some(expected), "{address}");
        }
    }

    #[test]
    fn internal_ipv6_and_embedded_ipv4_are_refused() {
        for (address, expected) in [
            ("::", "unspecified address"),
            ("::1", "loopback address"),
            ("::ffff:127.0.0.1", "loopback address"),
            ("::ffff:169.254.169.254", "cloud metadata address"),
            ("::10.0.0.1", "private address"),
            ("64:ff9b::192.168.0.1", "private address"),
            ("64:ff9b:1::1", "local-use NAT64 address"),
            ("2002:7f00:1::", "loopback address"),
            ("2001:0:4136:e378::1", "Teredo tunnel address"),
            ("2001:db8::1", "documentation address"),
            ("100::1", "discard-only address"),
            ("fd00:ec2::254", "cloud metadata address"),
            ("fc00::1", "unique-local address"),
            ("fe80::1", "link-local address"),
            ("fec0::1", "site-local address"),
            ("ff02::1", "multicast address"),
        ] {
            assert_eq!(reason(address), Some(expected), "{address}");
        }
    }

    #[test]
    fn public_addresses_pass() {
        for address in [
            "1.1.1.1",
            "8.8.8.8",
            "104.18.6.192",
            "172.32.0.1",
            "100.128.0.1",
            "::ffff:8.8.8.8",
            "64:ff9b::8.8.8.8",
            "2002:808:808::",
            "2606:4700::6810:6c0",
            "2a00:1450:4001:80b::200e",
        ] {
            assert_eq!(reason(address), None, "{address}");
        }
    }
}
