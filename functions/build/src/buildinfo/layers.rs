//! Go binaries inside image layers (`tar`, `tar+gzip`), read with the image-pull function's
//! streamed layer reader ([`lastmile_fn_image_pull::layer_scan::TarScan`]): every regular
//! file is offered to a [`GoTap`], which drops non-executables after their first bytes and
//! reads executables through a [`StreamReader`]. Memory stays bounded whatever the layer.

use std::collections::BTreeSet;
use std::io::{Read, Write};

use flate2::write::MultiGzDecoder;
use lastmile_fn_image_pull::layer_scan::{EntryTap, TarScan};

use super::stream::{StreamReader, Streamed};

/// Files smaller than this are not executables worth reading.
const MIN_EXECUTABLE: u64 = 1024;

/// A tap collecting what each executable in a layer is.
#[derive(Debug, Default)]
pub struct GoTap {
    current: Option<StreamReader>,
    /// Every executable found, in archive order (path without a leading `/`).
    pub found: Vec<(String, Streamed)>,
}

impl EntryTap for GoTap {
    fn start(&mut self, path: &str, size: u64) -> bool {
        if size < MIN_EXECUTABLE {
            return false;
        }
        self.current = Some(StreamReader::new(path, size));
        true
    }

    fn data(&mut self, bytes: &[u8]) {
        if let Some(r) = &mut self.current {
            r.feed(bytes);
        }
    }

    fn end(&mut self) {
        if let Some(r) = self.current.take() {
            let path = r.name().to_owned();
            match r.finish() {
                Streamed::NotExecutable => {}
                other => self.found.push((path, other)),
            }
        }
    }
}

/// Why a layer could not be read.
#[derive(Debug, thiserror::Error)]
pub enum LayerError {
    /// Reading the input failed.
    #[error("cannot read the layer: {0}")]
    Io(#[from] std::io::Error),
    /// The tar stream is corrupt.
    #[error("not a readable tar layer: {0}")]
    Corrupt(String),
}

/// A tap-driven tar reader behind an optional gzip decoder.
pub enum LayerReader {
    /// A `tar+gzip` layer.
    Gzip(Box<MultiGzDecoder<TarScan<GoTap>>>),
    /// A plain `tar` layer.
    Plain(Box<TarScan<GoTap>>),
}

impl LayerReader {
    /// A reader for a layer whose first bytes are `head` (gzip magic or not).
    pub fn for_head(head: &[u8]) -> Self {
        let scan = TarScan::tapped(BTreeSet::new(), GoTap::default());
        if head.starts_with(&[0x1f, 0x8b]) {
            Self::Gzip(Box::new(MultiGzDecoder::new(scan)))
        } else {
            Self::Plain(Box::new(scan))
        }
    }

    /// Feeds compressed (or plain) layer bytes.
    pub fn feed(&mut self, bytes: &[u8]) -> Result<(), LayerError> {
        match self {
            Self::Gzip(d) => d.write_all(bytes)?,
            Self::Plain(s) => s.feed(bytes),
        }
        match &self.scan().error {
            Some(e) => Err(LayerError::Corrupt(e.clone())),
            None => Ok(()),
        }
    }

    /// The tar reader.
    pub fn scan(&self) -> &TarScan<GoTap> {
        match self {
            Self::Gzip(d) => d.get_ref(),
            Self::Plain(s) => s,
        }
    }

    /// Finishes the stream; the executables found.
    pub fn finish(self) -> Result<Vec<(String, Streamed)>, LayerError> {
        let scan = match self {
            Self::Gzip(mut d) => {
                d.try_finish()?;
                d.finish()?
            }
            Self::Plain(s) => *s,
        };
        if let Some(e) = scan.error {
            return Err(LayerError::Corrupt(e));
        }
        Ok(scan.tap.found)
    }
}

/// True when `head` starts like a tar archive or a gzip stream.
pub fn looks_like_layer(head: &[u8]) -> bool {
    head.starts_with(&[0x1f, 0x8b]) || head.get(257..262) == Some(b"ustar")
}

/// Reads a whole layer from `input` in 1 MiB chunks.
pub fn read_layer(mut input: impl Read) -> Result<Vec<(String, Streamed)>, LayerError> {
    let mut buf = vec![0u8; 1 << 20];
    let mut reader: Option<LayerReader> = None;
    loop {
        let n = input.read(&mut buf)?;
        if n == 0 {
            break;
        }
        let r = reader.get_or_insert_with(|| LayerReader::for_head(&buf[..n]));
        r.feed(&buf[..n])?;
    }
    match reader {
        Some(r) => r.finish(),
        None => Ok(Vec::new()),
    }
}
