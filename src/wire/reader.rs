//! A bounds-checked cursor over a message body that knows its absolute offset.
//!
//! Every read returns `None` instead of panicking when the input is short; callers turn
//! that into the right [`WireError`](super::WireError) with [`Reader::offset`].

/// Cursor over `buf`, whose first byte sits at absolute offset `base` in the message.
#[derive(Debug, Clone, Copy)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    base: usize,
}

impl<'a> Reader<'a> {
    #[inline]
    pub fn new(buf: &'a [u8], base: usize) -> Self {
        Reader { buf, pos: 0, base }
    }

    /// Absolute offset (from the first marker byte) of the next unread byte.
    #[inline]
    pub fn offset(&self) -> usize {
        self.base + self.pos
    }

    #[inline]
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.pos >= self.buf.len()
    }

    /// The unread bytes, without consuming them.
    #[inline]
    pub fn rest(&self) -> &'a [u8] {
        &self.buf[self.pos..]
    }

    #[inline]
    pub fn u8(&mut self) -> Option<u8> {
        let b = *self.buf.get(self.pos)?;
        self.pos += 1;
        Some(b)
    }

    #[inline]
    pub fn u16(&mut self) -> Option<u16> {
        let b = self.take(2)?;
        Some(u16::from_be_bytes([b[0], b[1]]))
    }

    #[inline]
    pub fn u32(&mut self) -> Option<u32> {
        let b = self.take(4)?;
        Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// Consume `n` bytes.
    #[inline]
    pub fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let s = self.buf.get(self.pos..end)?;
        self.pos = end;
        Some(s)
    }

    /// Consume `n` bytes as a sub-reader that keeps absolute offsets.
    #[inline]
    pub fn sub(&mut self, n: usize) -> Option<Reader<'a>> {
        let base = self.offset();
        let s = self.take(n)?;
        Some(Reader::new(s, base))
    }

    /// Consume everything left.
    #[inline]
    pub fn take_rest(&mut self) -> &'a [u8] {
        let s = &self.buf[self.pos..];
        self.pos = self.buf.len();
        s
    }
}

#[cfg(test)]
mod tests {
    use super::Reader;

    #[test]
    fn short_reads_are_none_and_offsets_are_absolute() {
        let mut r = Reader::new(&[1, 2, 3], 19);
        assert_eq!(r.u8(), Some(1));
        assert_eq!(r.offset(), 20);
        assert_eq!(r.u32(), None);
        assert_eq!(r.u16(), Some(0x0203));
        assert_eq!(r.u8(), None);
        assert!(r.is_empty());
    }
}
