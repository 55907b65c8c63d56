//! The kube-scheduler's fit error (`0/N nodes are available: …`) in every released shape.
//!
//! Grammar (reference §1.2): an optional PreFilter sentence, a histogram of
//! `<count> <reason>` items sorted lexically and joined with `", "`, then an optional
//! PostFilter part (` preemption: …`, `no new claims to deallocate`) that has its own
//! `0/N` header. The histogram is split only where `", "` is followed by a count, because
//! old taint reasons contain commas. Legacy (≤ v1.6) `predicates:: Reason (count)` lists
//! are read too.

use crate::messages::reasons::{Reason, classify_reason};

/// One parsed fit error.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FitMessage {
    /// N of `0/N`, when present and representable.
    pub total: Option<u64>,
    /// Reasons without a count (PreFilter messages).
    pub prefilter: Vec<String>,
    /// `(count, reason)` items of the histogram.
    pub histogram: Vec<(u64, String)>,
    /// The PostFilter text (preemption), without its `preemption: ` prefix.
    pub postfilter: Option<String>,
    /// The message ended in ` ...` (the event was cut at 1024 bytes).
    pub truncated: bool,
}

impl FitMessage {
    /// Every reason with its count (PreFilter reasons count as all nodes) and its class.
    pub fn reasons(&self) -> Vec<(u64, &str, Reason)> {
        let all = self.total.unwrap_or(1).max(1);
        let mut out: Vec<(u64, &str, Reason)> = Vec::new();
        for p in &self.prefilter {
            out.push((all, p.as_str(), classify_reason(p)));
        }
        for (n, r) in &self.histogram {
            out.push((*n, r.as_str(), classify_reason(r)));
        }
        out
    }

    /// True when preemption was ruled out because the pod may not preempt.
    pub fn preemption_not_eligible(&self) -> bool {
        self.postfilter
            .as_deref()
            .is_some_and(|p| p.to_ascii_lowercase().contains("not eligible"))
    }
}

/// Where fit errors start in `text` (byte offsets of `0/N nodes are available`, Volcano's
/// `0/N nodes are unavailable`, and of the legacy `No nodes are available that match`
/// anchor), skipping preemption headers.
pub fn anchors(text: &str) -> Vec<usize> {
    let lower = text.to_ascii_lowercase();
    let mut out = Vec::new();
    // Volcano words the same histogram `0/N nodes are unavailable: …`.
    for header in [" nodes are available", " nodes are unavailable"] {
        let mut from = 0;
        while let Some(pos) = lower[from..].find(header).map(|p| p + from) {
            // Walk back over `0/<digits>`.
            let head = &lower[..pos];
            let digits = head.len() - head.trim_end_matches(|c: char| c.is_ascii_digit()).len();
            let slash = pos - digits;
            if digits > 0
                && slash >= 2
                && lower.as_bytes().get(slash - 1) == Some(&b'/')
                && lower.as_bytes().get(slash - 2) == Some(&b'0')
            {
                let start = slash - 2;
                let before = lower[..start].trim_end();
                if !before.ends_with("preemption:") {
                    out.push(start);
                }
            }
            from = pos + 1;
        }
    }
    let mut from = 0;
    while let Some(pos) = lower[from..]
        .find("no nodes are available that match")
        .map(|p| p + from)
    {
        out.push(pos);
        from = pos + 1;
    }
    // v1.4–v1.6: `failed to fit in any node` followed by per-node `fit failure on node (n):
    // Predicate, …` lines or one `fit failure summary on nodes : Predicate (count), …`;
    // one anchor for the whole block.
    for marker in ["fit failure summary on nodes", "fit failure on node ("] {
        if let Some(pos) = lower.find(marker) {
            out.push(pos);
            break;
        }
    }
    out.sort_unstable();
    out
}

/// True when `text` starts with a v1.4–v1.6 per-node block (`fit failure on node (…)`),
/// which spans several lines and so is read from the raw text rather than one message.
pub fn is_per_node_block(text: &str) -> bool {
    text.get(..19)
        .is_some_and(|h| h.eq_ignore_ascii_case("fit failure on node"))
}

/// Parses one fit error starting at its `0/N` (or legacy) anchor. Text after the message's
/// end (a closing quote or parenthesis of a wrapper, log noise) is ignored.
pub fn parse_fit(message: &str) -> Option<FitMessage> {
    let msg = lastmile_events::k8s::strip_aggregation_prefix(message).trim();
    let lower = msg.to_ascii_lowercase();
    if lower.starts_with("no nodes are available that match")
        || lower.starts_with("fit failure summary on nodes")
    {
        return Some(parse_legacy(msg));
    }
    if lower.starts_with("fit failure on node") {
        return Some(parse_per_node(msg));
    }
    let rest = lower.strip_prefix("0/")?;
    let digits_len = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    let total = rest[..digits_len].parse::<u64>().ok();
    let after = &msg[2 + digits_len..];
    let after_lower = after.to_ascii_lowercase();
    let body_start = body_start(&after_lower)?;
    let body = &after[body_start..];
    let (body, truncated) = strip_truncation(body);
    let (main, post) = split_postfilter(body);
    let mut fit = FitMessage {
        total,
        truncated,
        ..Default::default()
    };
    fit.postfilter = post.map(|p| trim_end_periods(p).to_owned());
    read_histogram(trim_end_periods(main.trim()), &mut fit);
    Some(fit)
}

/// Where the reasons start after `0/N`: after the colon that ends the header, or, when a
/// pasted message lost that colon (`0/1 nodes are available 1 node(s) had …`), right after
/// the header when a count follows it.
fn body_start(after_lower: &str) -> Option<usize> {
    for header in [" nodes are available", " nodes are unavailable"] {
        let Some(rest) = after_lower.strip_prefix(header) else {
            continue;
        };
        if rest.starts_with(':') {
            return Some(header.len() + 1);
        }
        if rest.trim_start().starts_with(|c: char| c.is_ascii_digit()) {
            return Some(header.len());
        }
    }
    after_lower.find(':').map(|p| p + 1)
}

fn parse_legacy(msg: &str) -> FitMessage {
    let mut fit = FitMessage::default();
    let body = msg
        .split_once("::")
        .or_else(|| msg.split_once(':'))
        .map(|(_, b)| b)
        .unwrap_or("");
    let (body, truncated) = strip_truncation(body);
    fit.truncated = truncated;
    for item in trim_end_periods(body.trim()).split(", ") {
        let item = item.trim();
        if item.is_empty() {
            continue;
        }
        // `Insufficient cpu (1)`.
        match item.rsplit_once(" (") {
            Some((reason, count)) => {
                let n = count
                    .trim_end_matches(')')
                    .trim()
                    .parse::<u64>()
                    .unwrap_or(1);
                fit.histogram.push((n, reason.trim().to_owned()));
            }
            None => fit.prefilter.push(item.to_owned()),
        }
    }
    fit
}

/// `fit failure on node (a): P1, P2` repeated per node: each predicate counted once per
/// node that names it; the total is the number of nodes listed.
fn parse_per_node(text: &str) -> FitMessage {
    let mut fit = FitMessage::default();
    let mut nodes = 0u64;
    let mut rest = text;
    while let Some(at) = rest.to_ascii_lowercase().find("fit failure on node (") {
        let after = &rest[at + "fit failure on node (".len()..];
        let Some(close) = after.find(')') else { break };
        nodes += 1;
        let body = after[close + 1..].trim_start().trim_start_matches(':');
        let end = body.find(['\n', '"', '`']).unwrap_or(body.len());
        let end = body[..end]
            .to_ascii_lowercase()
            .find("fit failure on node")
            .unwrap_or(end);
        for item in trim_end_periods(body[..end].trim()).split(',') {
            let item = trim_end_periods(item.trim());
            if item.is_empty() {
                continue;
            }
            match fit.histogram.iter_mut().find(|(_, r)| r == item) {
                Some(e) => e.0 += 1,
                None => fit.histogram.push((1, item.to_owned())),
            }
        }
        rest = &body[end..];
    }
    fit.total = (nodes > 0).then_some(nodes);
    fit
}

fn strip_truncation(body: &str) -> (&str, bool) {
    let mut t = body.trim_end();
    // Wrappers (`(message: …)`, JSON strings) close the message with a character the
    // message did not open; drop such unbalanced closers.
    loop {
        let before = t;
        for (open, close) in [('(', ')'), ('[', ']'), ('{', '}')] {
            if t.ends_with(close) && t.matches(close).count() > t.matches(open).count() {
                t = t[..t.len() - 1].trim_end();
            }
        }
        for quote in ['"', '\'', '`'] {
            if t.ends_with(quote) && t.matches(quote).count() % 2 == 1 {
                t = t[..t.len() - 1].trim_end();
            }
        }
        if t.ends_with('\\') {
            t = t[..t.len() - 1].trim_end();
        }
        if t == before {
            break;
        }
    }
    match t.strip_suffix("...") {
        Some(s) if !s.ends_with('.') => (s.trim_end(), true),
        _ => (t, false),
    }
}

fn split_postfilter(body: &str) -> (&str, Option<&str>) {
    let lower = body.to_ascii_lowercase();
    let pre = lower.find("preemption:");
    let dra = lower.find("no new claims to deallocate");
    let cut = match (pre, dra) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    match cut {
        Some(at) => {
            let post = &body[at..];
            let post = match post.to_ascii_lowercase().find("preemption:") {
                Some(p) => post[p + "preemption:".len()..].trim(),
                None => post.trim(),
            };
            (&body[..at], Some(post))
        }
        None => (body, None),
    }
}

fn trim_end_periods(s: &str) -> &str {
    s.trim_end().trim_end_matches('.').trim_end()
}

/// Splits the main part into PreFilter sentences and `<count> <reason>` items.
fn read_histogram(main: &str, fit: &mut FitMessage) {
    let mut items: Vec<&str> = Vec::new();
    let bytes = main.as_bytes();
    let mut start = 0;
    let mut i = 0;
    while i + 1 < bytes.len() {
        // Split at ", <digit>" or ". <digit>" (PreFilter sentence followed by the histogram).
        if (bytes[i] == b',' || bytes[i] == b'.')
            && bytes[i + 1] == b' '
            && starts_with_count(&main[i + 2..])
        {
            items.push(&main[start..i]);
            start = i + 2;
            i += 2;
            continue;
        }
        i += 1;
    }
    items.push(&main[start..]);
    for item in items {
        let item = trim_end_periods(item.trim());
        if item.is_empty() {
            continue;
        }
        match split_count(item) {
            Some((n, reason)) => fit.histogram.push((n, reason.to_owned())),
            None => {
                // A PreFilter message may be several sentences; keep each.
                for sentence in item.split(". ") {
                    let s = trim_end_periods(sentence.trim());
                    if !s.is_empty() {
                        fit.prefilter.push(s.to_owned());
                    }
                }
            }
        }
    }
}

fn starts_with_count(s: &str) -> bool {
    let digits = s.len() - s.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    digits > 0 && s.as_bytes().get(digits) == Some(&b' ')
}

fn split_count(item: &str) -> Option<(u64, &str)> {
    let digits = item.len() - item.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    if digits == 0 || item.as_bytes().get(digits) != Some(&b' ') {
        return None;
    }
    let n = item[..digits].parse::<u64>().unwrap_or(u64::MAX);
    Some((n, item[digits..].trim()))
}

#[cfg(test)]
mod tests;
