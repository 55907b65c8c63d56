//! `os-release(5)`: the few fields that name an image's base OS.

use serde::Serialize;

/// Longest value kept (the file is tiny; anything longer is not a real os-release).
const MAX_VALUE: usize = 200;

/// The base OS as `/etc/os-release` (or `/usr/lib/os-release`) names it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct OsRelease {
    /// `ID` (`debian`, `alpine`, `ubuntu`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// `VERSION_ID` (`12`, `3.20.3`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
    /// `PRETTY_NAME` (`Debian GNU/Linux 12 (bookworm)`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pretty_name: Option<String>,
}

impl OsRelease {
    /// Parses the file: `KEY=value` lines, values optionally in single or double quotes (with
    /// backslash escapes in double quotes); comments and unknown keys ignored. Never fails:
    /// a file without the fields gives an empty value.
    pub fn parse(text: &str) -> Self {
        let mut out = Self::default();
        for line in text.lines() {
            let line = line.trim();
            if line.starts_with('#') {
                continue;
            }
            let Some((key, raw)) = line.split_once('=') else {
                continue;
            };
            let slot = match key.trim() {
                "ID" => &mut out.id,
                "VERSION_ID" => &mut out.version_id,
                "PRETTY_NAME" => &mut out.pretty_name,
                _ => continue,
            };
            let value = unquote(raw.trim());
            if !value.is_empty() {
                *slot = Some(value);
            }
        }
        out
    }

    /// True when no field was found.
    pub fn is_empty(&self) -> bool {
        self.id.is_none() && self.version_id.is_none() && self.pretty_name.is_none()
    }

    /// `PRETTY_NAME`, else `ID VERSION_ID`.
    pub fn display_name(&self) -> String {
        match (&self.pretty_name, &self.id, &self.version_id) {
            (Some(p), _, _) => p.clone(),
            (None, Some(id), Some(v)) => format!("{id} {v}"),
            (None, Some(id), None) => id.clone(),
            _ => "unknown".into(),
        }
    }
}

fn unquote(raw: &str) -> String {
    let mut out = String::new();
    let mut chars = raw.chars();
    match raw.chars().next() {
        Some(q @ ('"' | '\'')) => {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    c if c == q => break,
                    '\\' if q == '"' => out.extend(chars.next()),
                    c => out.push(c),
                }
            }
        }
        _ => out.extend(chars.take_while(|c| !c.is_whitespace())),
    }
    out.chars()
        .filter(|c| !c.is_control())
        .take(MAX_VALUE)
        .collect()
}

#[cfg(test)]
mod tests;
