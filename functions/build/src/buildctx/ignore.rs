//! `.dockerignore` patterns with Docker's own rules (moby `patternmatcher`):
//!
//! - one pattern a line, `#` comments and blank lines skipped, surrounding space trimmed;
//! - a leading `!` makes an exception (re-inclusion);
//! - patterns are cleaned like Go's `filepath.Clean` (`./a` → `a`, `a/` → `a`, `a//b` →
//!   `a/b`, `a/../b` → `b`) and a leading `/` is dropped: every pattern is relative to the
//!   context root;
//! - `*` matches any run of characters except `/`, `?` one character except `/`, `[...]` a
//!   class, `\` escapes, and `**` any number of directories (zero included);
//! - a pattern excludes a path when it matches the path *or one of its parent directories*
//!   (so `foo` excludes `foo/bar`), and the last matching pattern wins, so `!foo/keep` after
//!   `foo` re-includes `foo/keep`.

use regex::Regex;

/// One compiled pattern.
#[derive(Debug, Clone)]
pub struct Pattern {
    /// The cleaned pattern text (without `!`).
    pub text: String,
    /// True for `!` exceptions.
    pub exclusion: bool,
    re: Regex,
}

/// A `.dockerignore` file, compiled.
#[derive(Debug, Clone, Default)]
pub struct IgnoreFile {
    /// The patterns in file order.
    pub patterns: Vec<Pattern>,
}

/// A pattern Docker would also refuse.
#[derive(Debug, thiserror::Error)]
#[error("invalid .dockerignore pattern {0:?}")]
pub struct PatternError(pub String);

impl IgnoreFile {
    /// Parses a `.dockerignore` text.
    pub fn parse(text: &str) -> Result<Self, PatternError> {
        let mut patterns = Vec::new();
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (exclusion, raw) = match line.strip_prefix('!') {
                Some(rest) => (true, rest.trim()),
                None => (false, line),
            };
            let text = clean(raw);
            if text.is_empty() {
                continue;
            }
            let re = Regex::new(&to_regex(&text)).map_err(|_| PatternError(line.to_owned()))?;
            patterns.push(Pattern {
                text,
                exclusion,
                re,
            });
        }
        Ok(Self { patterns })
    }

    /// True when `path` (slash-separated, relative to the context root) is left out of
    /// the context: the last pattern matching it or a parent directory decides.
    pub fn excludes(&self, path: &str) -> bool {
        let path = clean(path);
        let parents: Vec<&str> = path.match_indices('/').map(|(i, _)| &path[..i]).collect();
        let mut excluded = false;
        for p in &self.patterns {
            if p.exclusion == excluded {
                // Only a pattern that would change the outcome needs evaluating.
                let hit = p.re.is_match(&path) || parents.iter().any(|d| p.re.is_match(d));
                if hit {
                    excluded = !p.exclusion;
                }
            }
        }
        excluded
    }

    /// True when some exception could re-include something under directory `dir`, so an
    /// excluded directory must still be walked (Docker does the same).
    pub fn may_reinclude_under(&self, dir: &str) -> bool {
        self.patterns.iter().any(|p| {
            p.exclusion
                && (p.text.starts_with(&format!("{dir}/"))
                    || p.text.contains('*')
                    || p.text.contains('?')
                    || p.text.contains('['))
        })
    }
}

/// Go's `filepath.Clean` on a slash path, then the leading `/` removed (`.` becomes empty):
/// the same cleaning as image layers' paths ([`lastmile_fn_image_pull::layer_scan::normalise`]).
pub fn clean(raw: &str) -> String {
    lastmile_fn_image_pull::layer_scan::normalise(raw)
}

/// The anchored regex of a cleaned pattern.
fn to_regex(pattern: &str) -> String {
    let mut out = String::from("^");
    let chars: Vec<char> = pattern.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '*' if chars.get(i + 1) == Some(&'*') => {
                i += 1;
                if chars.get(i + 1) == Some(&'/') {
                    // `**/`: zero or more directories.
                    out.push_str("(?:.*/)?");
                    i += 1;
                } else {
                    out.push_str(".*");
                }
            }
            '*' => out.push_str("[^/]*"),
            '?' => out.push_str("[^/]"),
            '[' => {
                let mut j = i + 1;
                let mut class = String::from("[");
                if chars.get(j) == Some(&'^') || chars.get(j) == Some(&'!') {
                    class.push('^');
                    j += 1;
                }
                let mut closed = false;
                while j < chars.len() {
                    match chars[j] {
                        ']' => {
                            closed = true;
                            break;
                        }
                        '\\' if j + 1 < chars.len() => {
                            class.push_str(&regex::escape(&chars[j + 1].to_string()));
                            j += 2;
                            continue;
                        }
                        '[' => class.push_str("\\["),
                        ch => class.push(ch),
                    }
                    j += 1;
                }
                if closed {
                    class.push(']');
                    out.push_str(&class);
                    i = j;
                } else {
                    out.push_str("\\[");
                }
            }
            '\\' if i + 1 < chars.len() => {
                out.push_str(&regex::escape(&chars[i + 1].to_string()));
                i += 1;
            }
            other => out.push_str(&regex::escape(&other.to_string())),
        }
        i += 1;
    }
    out.push('$');
    out
}

#[cfg(test)]
mod tests;
