//! The build information as text: the `modinfo` string embedded in a Go binary and the
//! listing `go version -m` prints, which are the same lines (the listing indents them with a
//! tab and starts with `<file>: <go version>`).
//!
//! Lines are tab-separated: `path`, `mod` (main module), `dep`, `=>` (the replacement of the
//! module on the line before) and `build key=value`, where keys and values holding spaces,
//! quotes or `=` are written as Go string literals (`-ldflags="-s -w"`). Unknown lines are
//! skipped: newer toolchains may add some.

use serde::{Deserialize, Serialize};

/// A module as the build recorded it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Module {
    /// Module path (`golang.org/x/text`).
    pub path: String,
    /// Version (`v0.14.0`, `(devel)` for the main module or a path replacement).
    pub version: String,
    /// The `h1:` hash of the module's content, when recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sum: Option<String>,
    /// What a `replace` directive swapped in for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replace: Option<Box<Module>>,
}

impl Module {
    /// `path@version`, with ` => replacement` when replaced.
    pub fn display(&self) -> String {
        match &self.replace {
            Some(r) if r.version.is_empty() || r.version == "(devel)" => {
                format!("{}@{} => {}", self.path, self.version, r.path)
            }
            Some(r) => format!("{}@{} => {}@{}", self.path, self.version, r.path, r.version),
            None => format!("{}@{}", self.path, self.version),
        }
    }

    /// The module whose content was built: the replacement when there is one.
    pub fn effective(&self) -> &Module {
        self.replace.as_deref().unwrap_or(self)
    }
}

/// One `build` setting (`-trimpath=true`, `GOARCH=amd64`, `vcs.modified=false`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Setting {
    /// The key.
    pub key: String,
    /// The value, unquoted.
    pub value: String,
}

/// What a Go binary records about how it was built (`runtime/debug.BuildInfo`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuildInfo {
    /// The toolchain (`go1.19.8`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub go_version: Option<String>,
    /// The main package's import path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The main module.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub main: Option<Module>,
    /// Every dependency linked in, in the recorded order.
    #[serde(default)]
    pub deps: Vec<Module>,
    /// The build settings, in the recorded order.
    #[serde(default)]
    pub settings: Vec<Setting>,
}

impl BuildInfo {
    /// Parses a `modinfo` string (or one listing of `go version -m`, indented or not).
    pub fn parse(text: &str) -> Self {
        let mut info = BuildInfo::default();
        // Where the next `=>` line applies: the main module or the last dependency.
        let mut last_is_main = false;
        for raw in text.lines() {
            let line = raw.trim_start_matches([' ', '\t']).trim_end_matches('\r');
            let mut fields = line.split('\t');
            let kind = fields.next().unwrap_or("");
            match kind {
                "go" => info.go_version = fields.next().map(str::to_owned),
                "path" => info.path = fields.next().map(str::to_owned),
                "mod" | "dep" => {
                    let Some(m) = module(&mut fields) else {
                        continue;
                    };
                    if kind == "mod" {
                        info.main = Some(m);
                        last_is_main = true;
                    } else {
                        info.deps.push(m);
                        last_is_main = false;
                    }
                }
                "=>" => {
                    let Some(r) = module(&mut fields) else {
                        continue;
                    };
                    let target = if last_is_main {
                        info.main.as_mut()
                    } else {
                        info.deps.last_mut()
                    };
                    if let Some(t) = target {
                        t.replace = Some(Box::new(r));
                    }
                }
                "build" => {
                    let kv = line.get(kind.len() + 1..).unwrap_or("");
                    if let Some(s) = setting(kv) {
                        info.settings.push(s);
                    }
                }
                _ => {}
            }
        }
        info
    }

    /// The value of build setting `key`.
    pub fn setting(&self, key: &str) -> Option<&str> {
        self.settings
            .iter()
            .find(|s| s.key == key)
            .map(|s| s.value.as_str())
    }

    /// The dependency with module path `path`.
    pub fn dep(&self, path: &str) -> Option<&Module> {
        self.deps.iter().find(|m| m.path == path)
    }

    /// True when nothing was recorded (not even a toolchain).
    pub fn is_empty(&self) -> bool {
        *self == BuildInfo::default()
    }

    /// The lines `go version -m` prints for this build, without its first line.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let mut push = |kind: &str, rest: String| {
            out.push('\t');
            out.push_str(kind);
            out.push('\t');
            out.push_str(&rest);
            out.push('\n');
        };
        if let Some(p) = &self.path {
            push("path", p.clone());
        }
        let module_line = |m: &Module| {
            format!(
                "{}\t{}\t{}",
                m.path,
                m.version,
                m.sum.as_deref().unwrap_or("")
            )
        };
        for (kind, m) in self
            .main
            .iter()
            .map(|m| ("mod", m))
            .chain(self.deps.iter().map(|m| ("dep", m)))
        {
            push(kind, module_line(m));
            if let Some(r) = &m.replace {
                push("=>", module_line(r));
            }
        }
        for s in &self.settings {
            push(
                "build",
                format!("{}={}", quote_key(&s.key), quote_value(&s.value)),
            );
        }
        out
    }
}

/// One listing of `go version -m` output: the file it names and what it records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listing {
    /// The file name before the colon.
    pub file: String,
    /// Its build information.
    pub info: BuildInfo,
}

/// Splits `go version -m` output (one or several binaries) into listings. A listing starts
/// at an unindented `<file>: go1.x` line; its indented lines follow.
pub fn listings(text: &str) -> Vec<Listing> {
    let mut out: Vec<(String, Option<String>, String)> = Vec::new();
    for line in text.lines() {
        let unindented = !line.starts_with([' ', '\t']);
        if unindented {
            if let Some((file, version)) = line.trim_end().rsplit_once(": ")
                && version.starts_with("go")
                && !version.contains(char::is_whitespace)
            {
                out.push((file.to_owned(), Some(version.to_owned()), String::new()));
            }
            continue;
        }
        if let Some((_, _, body)) = out.last_mut() {
            body.push_str(line);
            body.push('\n');
        }
    }
    out.into_iter()
        .map(|(file, version, body)| {
            let mut info = BuildInfo::parse(&body);
            info.go_version = version.or(info.go_version);
            Listing { file, info }
        })
        .collect()
}

/// True when `text` looks like build information text (a listing or a raw `modinfo`).
pub fn looks_like_modinfo(text: &str) -> bool {
    text.lines().take(64).any(|l| {
        let l = l.trim_start_matches([' ', '\t']);
        l.starts_with("path\t") || l.starts_with("mod\t") || l.starts_with("dep\t")
    })
}

fn module<'a>(fields: &mut impl Iterator<Item = &'a str>) -> Option<Module> {
    let path = fields.next().filter(|p| !p.is_empty())?;
    let version = fields.next().unwrap_or("");
    let sum = fields.next().filter(|s| !s.is_empty());
    Some(Module {
        path: path.to_owned(),
        version: version.to_owned(),
        sum: sum.map(str::to_owned),
        replace: None,
    })
}

/// `key=value` with either side possibly a Go string literal.
fn setting(kv: &str) -> Option<Setting> {
    let (key, raw_value) = if kv.starts_with(['"', '`']) {
        let (key, rest) = quoted_prefix(kv)?;
        (key, rest.strip_prefix('=')?)
    } else {
        let (k, v) = kv.split_once('=')?;
        (k.to_owned(), v)
    };
    if key.is_empty() {
        return None;
    }
    let value = if raw_value.starts_with(['"', '`']) {
        quoted_prefix(raw_value).map_or_else(|| raw_value.to_owned(), |(v, _)| v)
    } else {
        raw_value.to_owned()
    };
    Some(Setting { key, value })
}

/// Unquotes the Go string literal at the start of `s`; returns it and the rest.
fn quoted_prefix(s: &str) -> Option<(String, &str)> {
    let mut chars = s.char_indices();
    let (_, open) = chars.next()?;
    if open == '`' {
        let end = s[1..].find('`')? + 1;
        return Some((s[1..end].to_owned(), &s[end + 1..]));
    }
    let mut out = String::new();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((out, &s[i + 1..])),
            '\\' => {
                let (_, e) = chars.next()?;
                match e {
                    'n' => out.push('\n'),
                    't' => out.push('\t'),
                    'r' => out.push('\r'),
                    'a' => out.push('\u{7}'),
                    'b' => out.push('\u{8}'),
                    'f' => out.push('\u{c}'),
                    'v' => out.push('\u{b}'),
                    '\\' | '"' | '\'' => out.push(e),
                    'x' | 'u' | 'U' => {
                        let n = match e {
                            'x' => 2,
                            'u' => 4,
                            _ => 8,
                        };
                        let hex: String = (0..n)
                            .filter_map(|_| chars.next().map(|(_, c)| c))
                            .collect();
                        let code = u32::from_str_radix(&hex, 16).ok()?;
                        out.push(char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER));
                    }
                    '0'..='7' => {
                        let mut code = e.to_digit(8)?;
                        for _ in 0..2 {
                            code = code * 8 + chars.next()?.1.to_digit(8)?;
                        }
                        out.push(char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER));
                    }
                    _ => return None,
                }
            }
            c => out.push(c),
        }
    }
    None
}

/// Quoted as Go writes a key: when it holds `=`, space, tab, newline or a quote.
fn quote_key(k: &str) -> String {
    if k.contains(['=', ' ', '\t', '\r', '\n', '"', '`']) {
        quote(k)
    } else {
        k.to_owned()
    }
}

/// Quoted as Go writes a value: when it holds space, tab, newline or a quote.
fn quote_value(v: &str) -> String {
    if v.contains([' ', '\t', '\r', '\n', '"', '`']) {
        quote(v)
    } else {
        v.to_owned()
    }
}

fn quote(s: &str) -> String {
    let mut out = String::from('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests;
