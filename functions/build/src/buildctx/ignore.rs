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
mod tests {
    use super::*;

    /// (patterns, path, excluded), from Docker's documentation of `.dockerignore`
    /// (docs.docker.com/build/concepts/context/#dockerignore-files) and moby's
    /// patternmatcher tests.
    const TABLE: &[(&str, &str, bool)] = &[
        // The documented example file.
        (
            "# comment\n*/temp*\n*/*/temp*\ntemp?",
            "somedir/temporary.txt",
            true,
        ),
        ("# comment\n*/temp*\n*/*/temp*\ntemp?", "somedir/temp", true),
        (
            "# comment\n*/temp*\n*/*/temp*\ntemp?",
            "somedir/subdir/temporary.txt",
            true,
        ),
        ("# comment\n*/temp*\n*/*/temp*\ntemp?", "tempa", true),
        ("# comment\n*/temp*\n*/*/temp*\ntemp?", "tempb", true),
        ("# comment\n*/temp*\n*/*/temp*\ntemp?", "temp", false),
        (
            "# comment\n*/temp*\n*/*/temp*\ntemp?",
            "temporary.txt",
            false,
        ),
        ("# comment\n*/temp*\n*/*/temp*\ntemp?", "a/b/c/temp", false),
        // `**` matches any number of directories, including zero.
        ("**/*.go", "main.go", true),
        ("**/*.go", "cmd/app/main.go", true),
        ("**/*.go", "main.gox", false),
        // Exceptions, last match wins.
        ("*.md\n!README.md", "CHANGES.md", true),
        ("*.md\n!README.md", "README.md", false),
        (
            "*.md\n!README*.md\nREADME-secret.md",
            "README-secret.md",
            true,
        ),
        (
            "*.md\n!README*.md\nREADME-secret.md",
            "README-public.md",
            false,
        ),
        (
            "*.md\nREADME-secret.md\n!README*.md",
            "README-secret.md",
            false,
        ),
        // Leading `/` and `./` are cleaned; trailing `/` too.
        ("/.git", ".git/HEAD", true),
        ("./.env", ".env", true),
        ("secrets/", "secrets/db.pem", true),
        ("a//b/../c", "a/c", true),
        // `*` does not cross `/`.
        ("*.pem", "certs/server.pem", false),
        ("*.pem", "server.pem", true),
        // A directory excludes everything under it; an exception re-includes inside it.
        ("vendor", "vendor/x/y.go", true),
        ("vendor\n!vendor/modules.txt", "vendor/modules.txt", false),
        ("vendor\n!vendor/modules.txt", "vendor/x/y.go", true),
        // Classes and escapes.
        ("file[0-9].txt", "file7.txt", true),
        ("file[^0-9].txt", "file7.txt", false),
        ("file\\*.txt", "file*.txt", true),
        ("file\\*.txt", "fileX.txt", false),
        // Comments and blanks are no patterns.
        ("# .env\n\n", ".env", false),
    ];

    #[test]
    fn dockers_documented_pattern_semantics() {
        for (patterns, path, excluded) in TABLE {
            let f = IgnoreFile::parse(patterns).unwrap();
            assert_eq!(
                f.excludes(path),
                *excluded,
                "patterns {patterns:?} on {path:?}"
            );
        }
    }

    #[test]
    fn clean_is_go_filepath_clean_without_the_leading_slash() {
        assert_eq!(clean("./a/b/"), "a/b");
        assert_eq!(clean("/a/./b/../c"), "a/c");
        assert_eq!(clean("."), "");
    }
}
