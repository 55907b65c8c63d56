//! Reading what the user passes, whole or not at all.
//!
//! Input over [`MAX_INPUT`] is refused rather than cut: a cut JSON document no longer parses,
//! would be read as text and diagnosed wrongly, with exit 0.

use std::io::Read;
use std::path::Path;

use anyhow::Context as _;

/// Largest input `explain` and `replay` read (per file).
pub const MAX_INPUT: u64 = 64 * 1024 * 1024;

/// Reads `path` (`-` or `None`: stdin) completely, or fails with a one-line error that
/// names the limit and how to filter the input below it.
pub fn read_bounded(path: Option<&Path>) -> anyhow::Result<Vec<u8>> {
    match path {
        Some(p) if p.as_os_str() != "-" => {
            let file =
                std::fs::File::open(p).with_context(|| format!("cannot read {}", p.display()))?;
            read_all(file, MAX_INPUT, &p.display().to_string())
        }
        _ => read_all(std::io::stdin(), MAX_INPUT, "stdin"),
    }
}

/// Reads `from` whole when it holds at most `limit` bytes.
pub fn read_all(from: impl Read, limit: u64, what: &str) -> anyhow::Result<Vec<u8>> {
    match read_within(from, limit).with_context(|| format!("cannot read {what}"))? {
        Some(bytes) => Ok(bytes),
        None => anyhow::bail!("{what} is {}", over_limit(limit)),
    }
}

/// Reads `from` whole, or `None` when it holds more than `limit` bytes (reading stops one
/// byte past the limit: nothing larger is ever held in memory).
pub fn read_within(from: impl Read, limit: u64) -> std::io::Result<Option<Vec<u8>>> {
    let mut bytes = Vec::new();
    from.take(limit.saturating_add(1)).read_to_end(&mut bytes)?;
    Ok((u64::try_from(bytes.len()).unwrap_or(u64::MAX) <= limit).then_some(bytes))
}

/// The refusal, after the name of what was refused: one line, the limit, and two ways to
/// get under it. `explain` and `replay` (per file) say the same.
pub fn over_limit(limit: u64) -> String {
    format!(
        "larger than {} MiB, the most lastmile reads; not diagnosed. \
Filter it first: one namespace (`kubectl get pods,jobs,events -n NS -o json`) or only what \
is not running (`jq '.items |= map(select(.status.phase != \"Running\"))'`)",
        limit / (1024 * 1024)
    )
}

#[cfg(test)]
mod tests;
