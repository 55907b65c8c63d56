//! Go build information from a byte stream, for files read out of image layers where there
//! is no random access: the bytes are hashed as they pass, the header is looked for at every
//! 16-byte boundary, and from the header on only the inline strings are kept (bounded).
//! Files that do not start like an executable are dropped after their first bytes.
//! The pre-1.18 pointer format needs random access and is reported as such.

use sha2::{Digest, Sha256};

use super::{Encoding, GoBinary, Inline, MAGIC, SliceSource, exe, inline};

/// Bytes of the start of a file kept to name its format.
const HEAD: usize = 4096;
/// Bytes kept from the header on at most.
const MAX_CAPTURE: usize = 8 << 20;

/// What a streamed file turned out to be.
#[derive(Debug, Clone)]
pub enum Streamed {
    /// Not an executable (dropped after its first bytes).
    NotExecutable,
    /// An executable with no Go build information.
    NotGo {
        /// The format.
        format: String,
    },
    /// A Go binary.
    Go(Box<GoBinary>),
    /// A Go binary whose information could not be read from the stream.
    Unreadable {
        /// The format.
        format: String,
        /// What stopped it: the stream ended early, or the build-info blob did not parse.
        reason: String,
    },
}

/// Reads one file's bytes as they arrive.
#[derive(Debug)]
pub struct StreamReader {
    name: String,
    size: u64,
    seen: u64,
    head: Vec<u8>,
    executable: Option<bool>,
    hasher: Sha256,
    /// The last bytes of the previous chunk below a 16-byte boundary that may start the magic.
    carry: Vec<u8>,
    capture: Option<Vec<u8>>,
    found: Option<Result<(String, String), String>>,
}

impl StreamReader {
    /// A reader for the file `name` of `size` bytes.
    pub fn new(name: impl Into<String>, size: u64) -> Self {
        Self {
            name: name.into(),
            size,
            seen: 0,
            head: Vec::new(),
            executable: None,
            hasher: Sha256::new(),
            carry: Vec::new(),
            capture: None,
            found: None,
        }
    }

    /// Feeds the next bytes of the file.
    pub fn feed(&mut self, bytes: &[u8]) {
        if self.executable == Some(false) {
            return;
        }
        if self.executable.is_none() {
            let take = (HEAD - self.head.len()).min(bytes.len());
            self.head.extend_from_slice(&bytes[..take]);
            if self.head.len() >= 4 || self.seen + bytes.len() as u64 >= self.size {
                self.executable = Some(exe::kind(&self.head).is_some());
                if self.executable == Some(false) {
                    return;
                }
            }
        } else if self.head.len() < HEAD {
            let take = (HEAD - self.head.len()).min(bytes.len());
            self.head.extend_from_slice(&bytes[..take]);
        }
        self.hasher.update(bytes);
        let start = self.seen;
        self.seen += bytes.len() as u64;
        if self.found.is_some() {
            return;
        }
        if let Some(c) = &mut self.capture {
            let room = MAX_CAPTURE.saturating_sub(c.len()).min(bytes.len());
            c.extend_from_slice(&bytes[..room]);
            self.try_decode();
            return;
        }
        self.search(start, bytes);
    }

    /// Looks for the magic at each 16-byte boundary of the file within `bytes` (which start
    /// at file offset `start`), using the carried tail of the previous chunk.
    fn search(&mut self, start: u64, bytes: &[u8]) {
        let carried = self.carry.len();
        let mut joined = std::mem::take(&mut self.carry);
        joined.extend_from_slice(bytes);
        let base = start - carried as u64;
        let first = usize::try_from((16 - base % 16) % 16).unwrap_or(0);
        let mut at = first;
        while at + MAGIC.len() <= joined.len() {
            let fake = joined.get(at + 14).is_some_and(|&p| p != 4 && p != 8);
            if joined[at..].starts_with(MAGIC) && !fake {
                self.capture = Some(joined[at..].to_vec());
                self.try_decode();
                return;
            }
            at += 16;
        }
        // A boundary whose magic may continue in the next chunk.
        if at < joined.len() {
            self.carry = joined[at..].to_vec();
        }
    }

    fn try_decode(&mut self) {
        let Some(c) = &self.capture else {
            return;
        };
        if c.len() < 32 {
            return;
        }
        let flags = c[15];
        if c[14] != 4 && c[14] != 8 {
            // Not a real header (the magic split across chunks, then other data): keep
            // looking in the bytes still to come.
            self.capture = None;
            return;
        }
        if flags & 2 == 0 {
            self.found = Some(Err(
                "built by Go 1.13–1.17 (pointer format), which needs the whole file: extract it and run `lastmile build inspect FILE`".into(),
            ));
            return;
        }
        match inline(c) {
            Ok(Inline::Done(v, m)) => self.found = Some(Ok((v, m))),
            Ok(Inline::Need(_)) if c.len() >= MAX_CAPTURE => {
                self.found = Some(Err(
                    "the build information is larger than read from a stream".into(),
                ));
            }
            Ok(Inline::Need(_)) => {}
            Err(e) => self.found = Some(Err(e)),
        }
    }

    /// The file's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// True when the file is known not to be an executable (its bytes need not be fed).
    pub fn rejected(&self) -> bool {
        self.executable == Some(false)
    }

    /// What the file was, once all its bytes were fed.
    pub fn finish(self) -> Streamed {
        if self.executable != Some(true) {
            return Streamed::NotExecutable;
        }
        let format = exe::kind(&self.head)
            .map(|k| match exe::layout(&mut SliceSource(&self.head), k) {
                Ok(l) => l.format,
                Err(super::ReadError::Malformed { format, .. }) => format,
                Err(_) => "executable".into(),
            })
            .unwrap_or_else(|| "executable".into());
        if self.seen < self.size {
            return Streamed::Unreadable {
                format,
                reason: format!("only {} of {} bytes were read", self.seen, self.size),
            };
        }
        match self.found {
            None => Streamed::NotGo { format },
            Some(Err(reason)) => Streamed::Unreadable { format, reason },
            Some(Ok((version, modinfo))) if version.starts_with("go") => {
                let mut info = super::BuildInfo::parse(&modinfo);
                info.go_version = Some(version);
                Streamed::Go(Box::new(GoBinary {
                    file: self.name,
                    format,
                    size: self.size,
                    sha256: hex::encode(self.hasher.finalize()),
                    encoding: Encoding::Inline,
                    info,
                }))
            }
            Some(Ok((version, _))) => Streamed::Unreadable {
                format,
                reason: format!("the recorded Go version {version:?} does not start with \"go\""),
            },
        }
    }
}
