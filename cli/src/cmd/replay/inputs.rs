//! Which files a replay reads, each once, and what became of each.
//!
//! Directories are walked in name order for `*.json`; a directory reached twice (a symlink
//! loop, or a second link to it) is visited once, recognised by its device and inode. A
//! file whose bytes repeat an earlier one is said to, not replayed twice. A file that cannot
//! be used costs that file only: it is reported in one line and the others go on.

use std::collections::HashMap;
use std::fs::{self, Metadata};
use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};

use lastmile_intake::Recording;
use sha2::{Digest, Sha256};

use crate::cmd::explain::input::{MAX_INPUT, over_limit, read_within};
use crate::output::error_chain;

/// What became of one path.
#[derive(Debug)]
pub enum Outcome {
    /// Read and understood.
    Read(Recording),
    /// Not usable, and why (one line, without the path).
    Failed(String),
    /// The same bytes as an earlier file, which was replayed instead.
    Duplicate(PathBuf),
    /// A directory already visited under another path (not a file; not counted).
    Revisit(PathBuf),
}

/// Every path found under `paths`, in order, with its outcome.
pub fn read_all(paths: &[PathBuf]) -> Vec<(PathBuf, Outcome)> {
    let mut found = Vec::new();
    let mut dirs = HashMap::new();
    for path in paths {
        match fs::metadata(path) {
            Ok(meta) if meta.is_dir() => walk(path, &meta, &mut dirs, &mut found),
            Ok(_) => found.push(Found::File(path.clone())),
            Err(e) => found.push(Found::Bad(path.clone(), unreadable(path, &e))),
        }
    }
    let mut seen: HashMap<[u8; 32], PathBuf> = HashMap::new();
    found
        .into_iter()
        .map(|f| match f {
            Found::File(path) => {
                let outcome = read_one(&path, &mut seen);
                (path, outcome)
            }
            Found::Bad(path, reason) => (path, Outcome::Failed(reason)),
            Found::Revisit(path, first) => (path, Outcome::Revisit(first)),
        })
        .collect()
}

/// A path the walk found, before reading.
enum Found {
    File(PathBuf),
    Bad(PathBuf, String),
    Revisit(PathBuf, PathBuf),
}

/// Adds the `*.json` files under `dir`; `dirs` holds the directories visited so far by
/// (device, inode), so no directory is entered twice whatever links lead to it.
fn walk(
    dir: &Path,
    meta: &Metadata,
    dirs: &mut HashMap<(u64, u64), PathBuf>,
    out: &mut Vec<Found>,
) {
    let id = (meta.dev(), meta.ino());
    if let Some(first) = dirs.get(&id) {
        out.push(Found::Revisit(dir.to_path_buf(), first.clone()));
        return;
    }
    dirs.insert(id, dir.to_path_buf());
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => {
            out.push(Found::Bad(dir.to_path_buf(), format!("cannot list: {e}")));
            return;
        }
    };
    let mut paths = Vec::new();
    for entry in entries {
        match entry {
            Ok(entry) => paths.push(entry.path()),
            Err(e) => out.push(Found::Bad(dir.to_path_buf(), format!("cannot list: {e}"))),
        }
    }
    paths.sort();
    for path in paths {
        let json = path.extension().is_some_and(|e| e == "json");
        match fs::metadata(&path) {
            Ok(meta) if meta.is_dir() => walk(&path, &meta, dirs, out),
            // A FIFO or device would block or never end: only regular files are read.
            Ok(meta) if json && !meta.is_file() => {
                out.push(Found::Bad(path, "not a regular file".into()));
            }
            Ok(_) if json => out.push(Found::File(path)),
            Ok(_) => {}
            Err(e) if json => {
                let reason = unreadable(&path, &e);
                out.push(Found::Bad(path, reason));
            }
            Err(_) => {}
        }
    }
}

/// Why `path` cannot be opened, naming a dangling symlink as one.
fn unreadable(path: &Path, err: &std::io::Error) -> String {
    match fs::read_link(path) {
        Ok(target) => format!(
            "a symlink to {}, which cannot be read: {err}",
            target.display()
        ),
        Err(_) => format!("cannot read: {err}"),
    }
}

/// Reads, fingerprints and takes in one file.
fn read_one(path: &Path, seen: &mut HashMap<[u8; 32], PathBuf>) -> Outcome {
    let bytes = match read_file(path) {
        Ok(bytes) => bytes,
        Err(reason) => return Outcome::Failed(reason),
    };
    let hash: [u8; 32] = Sha256::digest(&bytes).into();
    if let Some(first) = seen.get(&hash) {
        return Outcome::Duplicate(first.clone());
    }
    seen.insert(hash, path.to_path_buf());
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Outcome::Failed("empty file".into());
    }
    match lastmile_intake::read_json(&bytes) {
        Ok(recording) => Outcome::Read(recording),
        Err(e) => Outcome::Failed(format!("not a recorded incident: {}", error_chain(&e))),
    }
}

/// The whole file, within the limit `explain` has.
fn read_file(path: &Path) -> Result<Vec<u8>, String> {
    let file = fs::File::open(path).map_err(|e| unreadable(path, &e))?;
    // A regular file says its size: refuse without reading it.
    if file
        .metadata()
        .is_ok_and(|m| m.is_file() && m.len() > MAX_INPUT)
    {
        return Err(over_limit(MAX_INPUT));
    }
    match read_within(file, MAX_INPUT) {
        Ok(Some(bytes)) => Ok(bytes),
        Ok(None) => Err(over_limit(MAX_INPUT)),
        Err(e) => Err(format!("cannot read: {e}")),
    }
}

#[cfg(test)]
mod tests;
