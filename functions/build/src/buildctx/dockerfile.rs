//! The `COPY`/`ADD` sources a Dockerfile takes from the build context: every stage's
//! instructions (multi-stage builds copy into each), continuation lines joined, shell and
//! JSON forms; `--from` copies (another stage or image), heredocs and remote `ADD` sources
//! (URLs, git) read nothing from the context and are left out.

/// The context sources of every `COPY`/`ADD` in `text`, in order, deduplicated.
pub fn context_sources(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for line in logical_lines(text) {
        let trimmed = line.trim_start();
        let Some((word, rest)) = trimmed.split_once(char::is_whitespace) else {
            continue;
        };
        if !(word.eq_ignore_ascii_case("COPY") || word.eq_ignore_ascii_case("ADD")) {
            continue;
        }
        for s in sources_of(rest.trim()) {
            if !out.contains(&s) {
                out.push(s);
            }
        }
    }
    out
}

/// The instruction lines with `\` continuations joined and comments dropped.
fn logical_lines(text: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut current = String::new();
    for raw in text.lines() {
        let t = raw.trim();
        if current.is_empty() && t.starts_with('#') {
            continue;
        }
        if let Some(head) = t.strip_suffix('\\') {
            current.push_str(head);
            current.push(' ');
        } else {
            current.push_str(t);
            lines.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        lines.push(current);
    }
    lines
}

fn sources_of(args: &str) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    let mut rest = args;
    // Flags first: `--from` means the sources are not in the context.
    while let Some(flag) = rest.strip_prefix("--") {
        let (word, tail) = flag.split_once(char::is_whitespace).unwrap_or((flag, ""));
        if word.starts_with("from") {
            return Vec::new();
        }
        rest = tail.trim_start();
    }
    if rest.contains("<<") {
        return Vec::new();
    }
    if rest.starts_with('[') {
        if let Ok(list) = serde_json::from_str::<Vec<String>>(rest) {
            words = list;
        }
    } else {
        words = rest.split_whitespace().map(str::to_owned).collect();
    }
    if words.len() < 2 {
        return Vec::new();
    }
    words.pop();
    words
        .into_iter()
        .filter(|w| !(w.contains("://") || w.starts_with("git@")))
        .collect()
}

#[cfg(test)]
mod tests;
