//! One input file, whatever it holds: an executable, an image layer (`tar`, `tar+gzip`),
//! `go version -m` output, a raw `modinfo` string, or `go list -m -json all` output. Told
//! apart by their first bytes, so `build inspect` and `build diff` take any of them.

use std::io::Read;
use std::path::Path;

use serde::Serialize;

use super::stream::Streamed;
use super::{BuildInfo, Encoding, GoBinary, ReadError, exe, golist, layers, modinfo};

/// Largest text input read.
const MAX_TEXT: u64 = 64 << 20;

/// Build information from one input, with where it came from.
#[derive(Debug, Clone, Serialize)]
pub struct Loaded {
    /// The file (for layers, `LAYER:path`).
    pub file: String,
    /// What was read: the executable format, `go version -m`, `go list -m -json`.
    pub source: String,
    /// SHA-256 of the executable, when the input was one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// Size of the executable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// How the executable stored it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encoding: Option<Encoding>,
    /// What was recorded.
    pub info: BuildInfo,
}

impl From<GoBinary> for Loaded {
    fn from(b: GoBinary) -> Self {
        Self {
            file: b.file,
            source: b.format,
            sha256: Some(b.sha256),
            size: Some(b.size),
            encoding: Some(b.encoding),
            info: b.info,
        }
    }
}

/// One input's answer: build information, or why there is none (per binary in a layer).
#[derive(Debug)]
pub struct Answer {
    /// The file (for layers, `LAYER:path`).
    pub file: String,
    /// What it holds.
    pub result: Result<Loaded, ReadError>,
}

/// Reads `path`, telling its kind from its first bytes. A layer gives one answer per
/// executable inside it; a `go version -m` text one per listing.
pub fn load(path: &Path) -> Result<Vec<Answer>, ReadError> {
    let name = path.display().to_string();
    let mut file = std::fs::File::open(path)?;
    let mut head = vec![0u8; 512];
    let n = read_full(&mut file, &mut head)?;
    head.truncate(n);
    if exe::kind(&head).is_some() {
        return Ok(vec![Answer {
            file: name,
            result: super::read_file(path).map(Loaded::from),
        }]);
    }
    if layers::looks_like_layer(&head) {
        let found = layers::read_layer(std::fs::File::open(path)?).map_err(|e| {
            ReadError::NotExecutable(format!("an image layer that cannot be read ({e})"))
        })?;
        if found.is_empty() {
            return Err(ReadError::NotExecutable(
                "an image layer with no executable in it".into(),
            ));
        }
        return Ok(found
            .into_iter()
            .map(|(inner, s)| {
                let file = format!("{name}:{inner}");
                let result = match s {
                    Streamed::Go(mut b) => {
                        b.file.clone_from(&file);
                        Ok(Loaded::from(*b))
                    }
                    Streamed::NotGo { format } => Err(ReadError::NotGo { format }),
                    Streamed::Unreadable { format, reason } => {
                        Err(ReadError::Malformed { format, reason })
                    }
                    Streamed::NotExecutable => Err(ReadError::NotExecutable("data".into())),
                };
                Answer { file, result }
            })
            .collect());
    }
    let len = std::fs::metadata(path)?.len();
    if len > MAX_TEXT || std::str::from_utf8(&head).is_err() {
        return Err(ReadError::NotExecutable(exe::describe_other(&head)));
    }
    let text = std::fs::read_to_string(path)
        .map_err(|_| ReadError::NotExecutable(exe::describe_other(&head)))?;
    parse_text(&name, &text)
}

/// Build information from text: `go list -m -json`, `go version -m`, or a raw `modinfo`.
pub fn parse_text(name: &str, text: &str) -> Result<Vec<Answer>, ReadError> {
    let loaded = |file: String, source: &str, info: BuildInfo| Answer {
        file,
        result: Ok(Loaded {
            file: name.to_owned(),
            source: source.to_owned(),
            sha256: None,
            size: None,
            encoding: None,
            info,
        }),
    };
    if golist::looks_like_go_list(text) {
        let info = golist::parse(text).map_err(|e| ReadError::NotExecutable(e.to_string()))?;
        return Ok(vec![loaded(name.to_owned(), "go list -m -json", info)]);
    }
    let listings = modinfo::listings(text);
    if !listings.is_empty() {
        return Ok(listings
            .into_iter()
            .map(|l| {
                let file = if l.file.is_empty() {
                    name.to_owned()
                } else {
                    l.file
                };
                loaded(file, "go version -m", l.info)
            })
            .collect());
    }
    if modinfo::looks_like_modinfo(text) {
        return Ok(vec![loaded(
            name.to_owned(),
            "modinfo",
            BuildInfo::parse(text),
        )]);
    }
    Err(ReadError::NotExecutable(
        "text that is neither `go version -m` nor `go list -m -json` output".into(),
    ))
}

fn read_full(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut done = 0;
    while done < buf.len() {
        match r.read(&mut buf[done..])? {
            0 => break,
            n => done += n,
        }
    }
    Ok(done)
}
