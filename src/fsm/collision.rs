//! Connection collision detection (RFC 4271 §6.8), as a pure decision.

use std::net::Ipv4Addr;

/// Who opened a transport connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnDirection {
    /// We connected to the peer.
    Outbound,
    /// The peer connected to us.
    Inbound,
}

/// Which of two connections to the same peer survives, once the peer's BGP Identifier
/// is known. Returns the direction of the connection to keep.
///
/// RFC 4271 §6.8: "the BGP Identifier of the local system is compared to the BGP
/// Identifier of the remote system (as specified in the OPEN message) ... If the value
/// of the local BGP Identifier is less than the remote one, the local system closes the
/// BGP connection that already exists (the one that is already in the OpenConfirm
/// state), and accepts the BGP connection initiated by the remote system." Otherwise the
/// connection the local system initiated is kept.
/// RFC 6286 §2.3: with equal identifiers, the connection initiated by the speaker with the
/// larger AS number is kept.
pub fn resolve_collision(
    local_id: Ipv4Addr,
    remote_id: Ipv4Addr,
    local_as: u32,
    remote_as: u32,
) -> ConnDirection {
    let local = u32::from(local_id);
    let remote = u32::from(remote_id);
    let local_wins = if local == remote {
        local_as > remote_as
    } else {
        local > remote
    };
    if local_wins {
        ConnDirection::Outbound
    } else {
        ConnDirection::Inbound
    }
}
