//! Text made safe to print and to bound.

use std::borrow::Cow;
use std::fmt::Write as _;

/// Escapes what a terminal would act on: C0 controls (NUL, ESC, BEL, CR, LF, TAB, …), DEL,
/// C1 controls (8-bit CSI) and the bidirectional overrides that reorder what is shown
/// ("Trojan Source"). They come out as `\n`, `\t`, `\0`, `\x1b`, `\u{9b}`, `\u{202e}`, so the
/// reader sees that they were there. Everything else, backslashes included, is unchanged.
/// Use it on every field of human output, one field at a time.
pub fn escape_control(s: &str) -> Cow<'_, str> {
    if !s.chars().any(needs_escape) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if !needs_escape(c) {
            out.push(c);
            continue;
        }
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\0' => out.push_str("\\0"),
            c if (c as u32) < 0x80 => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
        }
    }
    Cow::Owned(out)
}

fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Cuts `s` to at most `max_bytes` bytes, at the last char boundary at or before it.
/// Returns true when anything was cut (callers add their own marker, e.g. `…`).
pub fn truncate_at_char_boundary(s: &mut String, max_bytes: usize) -> bool {
    if s.len() <= max_bytes {
        return false;
    }
    let cut = s.floor_char_boundary(max_bytes);
    s.truncate(cut);
    true
}
