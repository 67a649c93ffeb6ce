//! Shared by the fuzz targets: the first input byte picks the session context.
//!
//! bit 0: 2-octet AS (no RFC 6793 capability); bit 1: ADD-PATH for IPv4 unicast;
//! bit 2: ADD-PATH for IPv6 unicast; bit 3: extended messages (RFC 8654).
//! `seed.sh` writes corpus files in the same layout.

use wren::wire::{Ctx, Family};

/// Split a fuzz input into a context and the message bytes.
pub fn split(data: &[u8]) -> Option<(Ctx, &[u8])> {
    let (&sel, msg) = data.split_first()?;
    let mut add_path = Vec::new();
    if sel & 2 != 0 {
        add_path.push(Family::IPV4_UNICAST);
    }
    if sel & 4 != 0 {
        add_path.push(Family::IPV6_UNICAST);
    }
    let ctx = Ctx {
        as4: sel & 1 == 0,
        add_path,
        ext_msg: sel & 8 != 0,
    };
    Some((ctx, msg))
}
