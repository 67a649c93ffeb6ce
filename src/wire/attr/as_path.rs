//! AS_PATH (RFC 4271 §4.3, §5.1.2; RFC 5065 confederation segments) and AS4_PATH
//! (RFC 6793 §3), with the RFC 6793 §4.2.3 merge of the two.
//!
//! ```text
//! +-----------------+-----------------+------------------------------------+
//! | segment type(1) | segment len (1) | AS numbers: len x (2 or 4 octets)  |  ... repeated
//! +-----------------+-----------------+------------------------------------+
//! type: 1 AS_SET, 2 AS_SEQUENCE, 3 AS_CONFED_SEQUENCE, 4 AS_CONFED_SET
//! ```
//!
//! AS numbers are 4 octets on a session where both sides sent the 4-octet AS capability
//! (`ctx.as4`), 2 octets otherwise; AS4_PATH is always 4 octets.
//!
//! Session-level checks belong to the RIB, not here: the leftmost AS of a path from an
//! external peer (RFC 4271 §6.3), confederation segments from a non-confederation peer
//! (RFC 5065 §5.3), and AS_SET deprecation policy (RFC 9774).

use std::borrow::Cow;

use super::{code, Attrs, Malformed, AS_TRANS};
use super::{AsPath, AsSegment, SegmentKind};
use crate::wire::error::update_sub;

// ===== impl SegmentKind =====

impl SegmentKind {
    pub const fn from_u8(v: u8) -> Option<SegmentKind> {
        match v {
            1 => Some(SegmentKind::Set),
            2 => Some(SegmentKind::Sequence),
            3 => Some(SegmentKind::ConfedSequence),
            4 => Some(SegmentKind::ConfedSet),
            _ => None,
        }
    }

    pub const fn is_confed(self) -> bool {
        matches!(self, SegmentKind::ConfedSequence | SegmentKind::ConfedSet)
    }
}

// ===== impl AsPath =====

impl AsPath {
    /// A path of one AS_SEQUENCE (empty path for an empty slice).
    pub fn sequence(asns: &[u32]) -> AsPath {
        if asns.is_empty() {
            return AsPath::default();
        }
        AsPath {
            segments: vec![AsSegment {
                kind: SegmentKind::Sequence,
                asns: asns.to_vec(),
            }],
        }
    }

    /// Path length for best-path selection and for the RFC 6793 merge: an AS_SET counts 1,
    /// confederation segments count 0 (RFC 4271 §9.1.2.2 a, RFC 5065 §5.3).
    pub fn path_len(&self) -> usize {
        self.segments
            .iter()
            .map(|s| match s.kind {
                SegmentKind::Sequence => s.asns.len(),
                SegmentKind::Set => 1,
                _ => 0,
            })
            .sum()
    }

    /// Decode an AS_PATH (`attr` = 2) or AS4_PATH (`attr` = 17) value.
    ///
    /// RFC 7606 §7.2: malformed if a segment type is unknown, a segment overruns the
    /// attribute, a single octet is left over, or a segment length is zero. RFC 7607 §2:
    /// AS number 0 makes the attribute malformed too.
    pub fn decode(v: &[u8], four: bool, attr: u8) -> Result<AsPath, Malformed> {
        let w = if four { 4 } else { 2 };
        let mut segments = Vec::with_capacity(1);
        let mut pos = 0;
        while pos < v.len() {
            let Some(&[t, n]) = v.get(pos..).and_then(<[u8]>::first_chunk::<2>) else {
                return Err(bad(attr, "one octet left after the last segment"));
            };
            let kind = SegmentKind::from_u8(t).ok_or_else(|| bad(attr, "unknown segment type"))?;
            if n == 0 {
                return Err(bad(attr, "segment of length zero"));
            }
            let end = pos + 2 + n as usize * w;
            let body = v
                .get(pos + 2..end)
                .ok_or_else(|| bad(attr, "segment overruns"))?;
            let asns: Vec<u32> = if four {
                body.chunks_exact(4)
                    .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
                    .collect()
            } else {
                body.chunks_exact(2)
                    .map(|c| u16::from_be_bytes([c[0], c[1]]) as u32)
                    .collect()
            };
            if asns.contains(&0) {
                return Err(bad(attr, "AS number 0 (RFC 7607)"));
            }
            segments.push(AsSegment { kind, asns });
            pos = end;
        }
        Ok(AsPath { segments })
    }

    /// Append the value. With `four` false, AS numbers above 65535 become AS_TRANS
    /// (RFC 6793 §4.2.2). Segments longer than 255 are split; empty segments are skipped.
    pub fn encode(&self, four: bool, out: &mut Vec<u8>) {
        for seg in &self.segments {
            for chunk in seg.asns.chunks(255) {
                out.push(seg.kind as u8);
                out.push(chunk.len() as u8);
                for &asn in chunk {
                    if four {
                        out.extend_from_slice(&asn.to_be_bytes());
                    } else {
                        let a = if asn > 0xffff { AS_TRANS } else { asn };
                        out.extend_from_slice(&(a as u16).to_be_bytes());
                    }
                }
            }
        }
    }

    /// Does any AS number need 4 octets?
    pub fn has_as4(&self) -> bool {
        self.segments
            .iter()
            .any(|s| s.asns.iter().any(|&a| a > 0xffff))
    }
}

// ===== helper functions =====

#[cold]
fn bad(attr: u8, what: &str) -> Malformed {
    if attr == code::AS_PATH {
        // RFC 4271 §6.3: "If the path is syntactically incorrect, then the Error Subcode
        // MUST be set to Malformed AS_PATH." (no data field is specified).
        Malformed::value(
            update_sub::MALFORMED_AS_PATH,
            false,
            format!("AS_PATH: {what}"),
        )
    } else {
        // A recognized optional attribute with a bad value: Optional Attribute Error, with
        // the attribute as data (RFC 4271 §6.3).
        Malformed::value(
            update_sub::OPTIONAL_ATTRIBUTE_ERROR,
            true,
            format!("AS4_PATH: {what}"),
        )
    }
}

/// The AS path of a route received from a 2-octet ("OLD") speaker, merged per RFC 6793 §4.2.3.
///
/// Meaningful only for a session without `ctx.as4`: on a 4-octet session the decoder has
/// already discarded AS4_PATH (RFC 6793 §4.1), so this returns AS_PATH unchanged.
/// - If AGGREGATOR is present with an AS other than AS_TRANS, AS4_PATH is ignored.
/// - Confederation segments in AS4_PATH are dropped (RFC 6793 §6).
/// - If AS_PATH counts fewer AS numbers than AS4_PATH, AS4_PATH is ignored.
/// - Otherwise the leading AS numbers of AS_PATH (as many as AS_PATH has more than
///   AS4_PATH, with any leading confederation segments) are prepended to AS4_PATH.
pub fn effective(a: &Attrs) -> Option<Cow<'_, AsPath>> {
    let path = a.as_path.as_ref()?;
    let Some(as4) = &a.as4_path else {
        return Some(Cow::Borrowed(path));
    };
    if matches!(a.aggregator, Some(agg) if agg.asn != AS_TRANS) {
        return Some(Cow::Borrowed(path));
    }
    let as4_segs: Vec<&AsSegment> = as4
        .segments
        .iter()
        .filter(|s| !s.kind.is_confed())
        .collect();
    let n4: usize = as4_segs
        .iter()
        .map(|s| {
            if s.kind == SegmentKind::Set {
                1
            } else {
                s.asns.len()
            }
        })
        .sum();
    let n = path.path_len();
    if n < n4 {
        return Some(Cow::Borrowed(path));
    }
    let mut need = n - n4;
    let mut segments: Vec<AsSegment> = Vec::with_capacity(path.segments.len() + as4_segs.len());
    for seg in &path.segments {
        if need == 0 && !seg.kind.is_confed() {
            break;
        }
        match seg.kind {
            SegmentKind::Sequence => {
                let k = need.min(seg.asns.len());
                segments.push(AsSegment {
                    kind: seg.kind,
                    asns: seg.asns[..k].to_vec(),
                });
                need -= k;
            }
            SegmentKind::Set => {
                segments.push(seg.clone());
                need -= 1;
            }
            _ => segments.push(seg.clone()),
        }
    }
    for seg in as4_segs {
        match segments.last_mut() {
            Some(last)
                if last.kind == SegmentKind::Sequence && seg.kind == SegmentKind::Sequence =>
            {
                last.asns.extend_from_slice(&seg.asns)
            }
            _ => segments.push(seg.clone()),
        }
    }
    Some(Cow::Owned(AsPath { segments }))
}
