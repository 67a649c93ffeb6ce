//! The node's own addresses: the default router ID, next-hop-self addresses for the other
//! family, and the link-local address of a session's interface.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// One address of one interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IfAddr {
    pub iface: String,
    pub addr: IpAddr,
    pub prefix_len: u8,
}

/// The node's interface addresses, read once at start.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Host {
    pub addrs: Vec<IfAddr>,
}

// ===== impl Host =====

impl Host {
    /// Read the node's addresses (getifaddrs). An error leaves the list empty.
    pub fn read() -> Host {
        Host {
            addrs: getifaddrs().unwrap_or_default(),
        }
    }

    /// The default BGP identifier: the first IPv4 address that is not loopback, else a
    /// hash of the first global IPv6 address (IPv6-only nodes), else 127.0.0.1.
    pub fn router_id(&self) -> Ipv4Addr {
        if let Some(a) = self.first_v4() {
            return a;
        }
        match self.first_v6() {
            Some(a) => hash_v6(a),
            None => Ipv4Addr::LOCALHOST,
        }
    }

    /// First IPv4 address that is not loopback.
    pub fn first_v4(&self) -> Option<Ipv4Addr> {
        self.addrs.iter().find_map(|a| match a.addr {
            IpAddr::V4(v) if !v.is_loopback() && !v.is_unspecified() => Some(v),
            _ => None,
        })
    }

    /// First IPv6 address that is neither loopback nor link-local.
    pub fn first_v6(&self) -> Option<Ipv6Addr> {
        self.addrs.iter().find_map(|a| match a.addr {
            IpAddr::V6(v) if !v.is_loopback() && !is_link_local(v) => Some(v),
            _ => None,
        })
    }

    /// Our link-local address on the interface that reaches `remote` directly (the
    /// interface holding `local` whose subnet contains `remote`). RFC 2545 §3.
    pub fn link_local(&self, local: IpAddr, remote: IpAddr) -> Option<Ipv6Addr> {
        let (IpAddr::V6(_), IpAddr::V6(r)) = (local, remote) else {
            return None;
        };
        let ifa = self.addrs.iter().find(|a| a.addr == local)?;
        let connected = is_link_local(r) || same_subnet(ifa.addr, remote, ifa.prefix_len);
        if !connected {
            return None;
        }
        self.addrs.iter().find_map(|a| match a.addr {
            IpAddr::V6(v) if a.iface == ifa.iface && is_link_local(v) => Some(v),
            _ => None,
        })
    }
}

// ===== helper functions =====

pub fn is_link_local(a: Ipv6Addr) -> bool {
    a.segments()[0] & 0xffc0 == 0xfe80
}

fn same_subnet(a: IpAddr, b: IpAddr, len: u8) -> bool {
    match (a, b) {
        (IpAddr::V4(a), IpAddr::V4(b)) => {
            let mask = u32::MAX
                .checked_shl(32 - u32::from(len.min(32)))
                .unwrap_or(0);
            u32::from(a) & mask == u32::from(b) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(b)) => {
            let mask = u128::MAX
                .checked_shl(128 - u32::from(len.min(128)))
                .unwrap_or(0);
            u128::from(a) & mask == u128::from(b) & mask
        }
        _ => false,
    }
}

/// A stable, non-zero IPv4-shaped identifier from an IPv6 address (FNV-1a).
fn hash_v6(a: Ipv6Addr) -> Ipv4Addr {
    let mut h: u32 = 0x811c_9dc5;
    for b in a.octets() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    Ipv4Addr::from(h.max(1))
}

/// Every interface address of the node.
fn getifaddrs() -> std::io::Result<Vec<IfAddr>> {
    let mut head: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: getifaddrs fills `head` with a list we free below with freeifaddrs.
    if unsafe { libc::getifaddrs(&mut head) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    let mut out = Vec::new();
    let mut cur = head;
    while !cur.is_null() {
        // SAFETY: `cur` is a node of the list getifaddrs returned, not yet freed.
        let ifa = unsafe { &*cur };
        if let Some(a) = convert(ifa) {
            out.push(a);
        }
        cur = ifa.ifa_next;
    }
    // SAFETY: `head` came from getifaddrs and is freed once.
    unsafe { libc::freeifaddrs(head) };
    Ok(out)
}

fn convert(ifa: &libc::ifaddrs) -> Option<IfAddr> {
    if ifa.ifa_addr.is_null() || ifa.ifa_name.is_null() {
        return None;
    }
    // SAFETY: ifa_name is a NUL-terminated string owned by the list.
    let iface = unsafe { std::ffi::CStr::from_ptr(ifa.ifa_name) }
        .to_string_lossy()
        .into_owned();
    let addr = sockaddr_ip(ifa.ifa_addr)?;
    let prefix_len = if ifa.ifa_netmask.is_null() {
        0
    } else {
        match sockaddr_ip(ifa.ifa_netmask)? {
            IpAddr::V4(m) => u32::from(m).count_ones() as u8,
            IpAddr::V6(m) => u128::from(m).count_ones() as u8,
        }
    };
    Some(IfAddr {
        iface,
        addr,
        prefix_len,
    })
}

fn sockaddr_ip(sa: *const libc::sockaddr) -> Option<IpAddr> {
    // SAFETY: `sa` is non-null and points at a sockaddr whose family says its real type.
    unsafe {
        match i32::from((*sa).sa_family) {
            libc::AF_INET => {
                let sin = &*(sa as *const libc::sockaddr_in);
                Some(IpAddr::V4(Ipv4Addr::from(u32::from_be(
                    sin.sin_addr.s_addr,
                ))))
            }
            libc::AF_INET6 => {
                let sin6 = &*(sa as *const libc::sockaddr_in6);
                Some(IpAddr::V6(Ipv6Addr::from(sin6.sin6_addr.s6_addr)))
            }
            _ => None,
        }
    }
}

// ===== tests =====

#[cfg(test)]
mod tests {
    use super::*;

    fn ifa(iface: &str, addr: &str, len: u8) -> IfAddr {
        IfAddr {
            iface: iface.into(),
            addr: addr.parse().unwrap(),
            prefix_len: len,
        }
    }

    #[test]
    fn router_id_prefers_a_non_loopback_ipv4() {
        let h = Host {
            addrs: vec![
                ifa("lo", "127.0.0.1", 8),
                ifa("eth0", "2001:db8::1", 64),
                ifa("eth0", "198.18.0.1", 24),
            ],
        };
        assert_eq!(h.router_id(), Ipv4Addr::new(198, 18, 0, 1));
        let v6only = Host {
            addrs: vec![ifa("lo", "::1", 128), ifa("eth0", "2001:db8::1", 64)],
        };
        let id = v6only.router_id();
        assert_ne!(id, Ipv4Addr::UNSPECIFIED);
        assert_ne!(id, Ipv4Addr::LOCALHOST);
        assert_eq!(id, v6only.router_id(), "stable");
        assert_eq!(Host::default().router_id(), Ipv4Addr::LOCALHOST);
    }

    #[test]
    fn link_local_only_for_a_directly_connected_ipv6_peer() {
        let h = Host {
            addrs: vec![
                ifa("eth0", "2001:db8:1::1", 64),
                ifa("eth0", "fe80::1", 64),
                ifa("eth1", "fe80::2", 64),
            ],
        };
        let local = "2001:db8:1::1".parse().unwrap();
        assert_eq!(
            h.link_local(local, "2001:db8:1::2".parse().unwrap()),
            Some("fe80::1".parse().unwrap())
        );
        assert_eq!(h.link_local(local, "2001:db8:9::2".parse().unwrap()), None);
        assert_eq!(
            h.link_local("198.18.0.1".parse().unwrap(), "198.18.0.2".parse().unwrap()),
            None
        );
    }

    #[test]
    fn reads_the_loopback_address() {
        let h = Host::read();
        assert!(
            h.addrs
                .iter()
                .any(|a| a.addr == IpAddr::V4(Ipv4Addr::LOCALHOST)),
            "{h:?}"
        );
    }
}
