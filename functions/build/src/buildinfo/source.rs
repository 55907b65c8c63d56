//! Bounded random access to a file's bytes: every read names its length, and no read is
//! larger than [`MAX_READ`], whatever a header claims.

use std::io::{Read, Seek, SeekFrom};

use super::ReadError;

/// The largest single read.
pub const MAX_READ: u64 = 16 << 20;

/// Bytes that can be read at any offset.
pub trait Source {
    /// Total length in bytes.
    fn len(&self) -> u64;
    /// True when there are no bytes.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Reads up to `buf.len()` bytes at `offset`; fewer only at the end.
    fn read_into(&mut self, offset: u64, buf: &mut [u8]) -> std::io::Result<usize>;
}

/// A file (or anything seekable) of known length.
#[derive(Debug)]
pub struct SeekSource<R> {
    inner: R,
    len: u64,
}

impl<R: Read + Seek> SeekSource<R> {
    /// Wraps `inner`, measuring its length.
    pub fn new(mut inner: R) -> std::io::Result<Self> {
        let len = inner.seek(SeekFrom::End(0))?;
        Ok(Self { inner, len })
    }
}

impl<R: Read + Seek> Source for SeekSource<R> {
    fn len(&self) -> u64 {
        self.len
    }

    fn read_into(&mut self, offset: u64, buf: &mut [u8]) -> std::io::Result<usize> {
        self.inner.seek(SeekFrom::Start(offset))?;
        let mut done = 0;
        while done < buf.len() {
            match self.inner.read(&mut buf[done..])? {
                0 => break,
                n => done += n,
            }
        }
        Ok(done)
    }
}

/// Bytes in memory.
#[derive(Debug, Clone, Copy)]
pub struct SliceSource<'a>(pub &'a [u8]);

impl Source for SliceSource<'_> {
    fn len(&self) -> u64 {
        self.0.len() as u64
    }

    fn read_into(&mut self, offset: u64, buf: &mut [u8]) -> std::io::Result<usize> {
        let start = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(self.0.len());
        let n = buf.len().min(self.0.len() - start);
        buf[..n].copy_from_slice(&self.0[start..start + n]);
        Ok(n)
    }
}

/// Exactly `len` bytes at `offset`, or [`ReadError::Truncated`] when the file ends first.
pub(crate) fn read_at(src: &mut dyn Source, offset: u64, len: u64) -> Result<Vec<u8>, ReadError> {
    if len > MAX_READ {
        return Err(ReadError::Truncated(format!(
            "a header asks for {len} bytes at offset {offset}, more than is read at once"
        )));
    }
    if offset.checked_add(len).is_none_or(|end| end > src.len()) {
        return Err(ReadError::Truncated(format!(
            "{len} bytes at offset {offset} lie past the end of the file ({} bytes)",
            src.len()
        )));
    }
    let mut buf = vec![0; usize::try_from(len).unwrap_or(0)];
    let n = src.read_into(offset, &mut buf)?;
    if n < buf.len() {
        return Err(ReadError::Truncated(format!(
            "the file ended after {n} of {len} bytes at offset {offset}"
        )));
    }
    Ok(buf)
}
