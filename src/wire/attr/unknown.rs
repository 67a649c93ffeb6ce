//! Attributes wren does not interpret, kept as bytes (RFC 4271 §5, §9.1.3 of the
//! propagation rules).
//!
//! - An unrecognized optional transitive attribute is accepted and passed on with the
//!   Partial bit set (RFC 4271 §5: "MUST be passed, along with the path, to other BGP peers
//!   with the Partial bit in the Attribute Flags octet set to 1").
//! - An unrecognized optional non-transitive attribute is quietly ignored and not passed on.
//! - An unrecognized well-known attribute is an error (RFC 4271 §6.3, Unrecognized
//!   Well-known Attribute); the decoder refuses it, so a `RawAttr` is always optional.

use super::{flag, RawAttr};

// ===== impl RawAttr =====

impl RawAttr {
    /// Build from the received flags: Extended Length and the four unused low bits are
    /// dropped (they describe the encoding, not the attribute; RFC 4271 §4.3).
    pub fn new(flags: u8, type_code: u8, value: Vec<u8>) -> RawAttr {
        RawAttr {
            flags: flags & (flag::OPTIONAL | flag::TRANSITIVE | flag::PARTIAL),
            type_code,
            value,
        }
    }

    pub fn is_optional(&self) -> bool {
        self.flags & flag::OPTIONAL != 0
    }

    pub fn is_transitive(&self) -> bool {
        self.flags & flag::TRANSITIVE != 0
    }

    /// The attribute as it must be sent to another peer: optional transitive ones get the
    /// Partial bit; optional non-transitive ones are not passed on (`None`).
    pub fn for_readvertise(&self) -> Option<RawAttr> {
        match (self.is_optional(), self.is_transitive()) {
            (true, true) => Some(RawAttr {
                flags: self.flags | flag::PARTIAL,
                ..self.clone()
            }),
            (true, false) => None,
            // Never produced by the decoder; pass a hand-built well-known one unchanged.
            (false, _) => Some(self.clone()),
        }
    }
}
