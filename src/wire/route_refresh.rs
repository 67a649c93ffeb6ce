//! ROUTE-REFRESH message (RFC 2918 §3) with the RFC 7313 §3.2 message subtypes.
//!
//! ```text
//!  0       7      15      23      31
//! +-------+-------+-------+-------+
//! |      AFI      | Subtype | SAFI|
//! +-------+-------+-------+-------+
//! ```

use serde::{Deserialize, Serialize};

use super::error::{EncodeError, WireError};
use super::family::Family;

/// A ROUTE-REFRESH. `subtype`: 0 normal request, 1 BoRR, 2 EoRR (RFC 7313), others reserved.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RouteRefreshMsg {
    pub family: Family,
    #[serde(default)]
    pub subtype: u8,
}

/// Decode a ROUTE-REFRESH body; `base` is the absolute offset of `body[0]`.
pub fn decode(body: &[u8], base: usize) -> Result<RouteRefreshMsg, WireError> {
    // TODO(helper-session)
    let _ = base;
    let afi = u16::from_be_bytes([*body.first().unwrap_or(&0), *body.get(1).unwrap_or(&0)]);
    Ok(RouteRefreshMsg {
        family: Family::new(afi, *body.get(3).unwrap_or(&0)),
        subtype: *body.get(2).unwrap_or(&0),
    })
}

impl RouteRefreshMsg {
    pub fn encode_body(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.extend_from_slice(&self.family.afi.to_be_bytes());
        out.push(self.subtype);
        out.push(self.family.safi);
        Ok(())
    }
}
