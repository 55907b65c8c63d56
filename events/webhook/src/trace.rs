//! W3C trace context for CI events: continue the pipeline's trace, or start one.

/// True for a well-formed version-00 `traceparent` with non-zero ids.
pub fn is_valid(tp: &str) -> bool {
    let parts: Vec<&str> = tp.trim().split('-').collect();
    let hex = |s: &str, n: usize| {
        s.len() == n
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    };
    matches!(parts.as_slice(), [v, t, s, f]
        if hex(v, 2) && *v != "ff" && hex(t, 32) && hex(s, 16) && hex(f, 2)
            && t.bytes().any(|b| b != b'0') && s.bytes().any(|b| b != b'0'))
}

fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::fill(&mut buf[..]);
    if buf.iter().all(|b| *b == 0) {
        buf[0] = 1;
    }
    hex::encode(buf)
}

/// A child of `incoming` (same trace, new span id) when it is valid, else a new sampled
/// root trace.
pub fn continue_or_start(incoming: Option<&str>) -> String {
    match incoming.map(str::trim).filter(|tp| is_valid(tp)) {
        Some(tp) => {
            let mut parts = tp.split('-');
            let (_, trace_id, _, flags) = (
                parts.next(),
                parts.next().unwrap_or_default(),
                parts.next(),
                parts.next().unwrap_or("01"),
            );
            format!("00-{trace_id}-{}-{flags}", random_hex(8))
        }
        None => format!("00-{}-{}-01", random_hex(16), random_hex(8)),
    }
}

/// The trace id (32 hex digits) of a traceparent.
pub fn trace_id(tp: &str) -> Option<&str> {
    tp.split('-').nth(1).filter(|t| t.len() == 32)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn continues_a_valid_trace_and_replaces_garbage() {
        let parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let child = continue_or_start(Some(parent));
        assert!(is_valid(&child));
        assert_eq!(trace_id(&child), Some("4bf92f3577b34da6a3ce929d0e0e4736"));
        assert_ne!(child, parent);
        for bad in [
            "",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "garbage",
        ] {
            let fresh = continue_or_start(Some(bad));
            assert!(is_valid(&fresh), "{fresh}");
            assert_ne!(trace_id(&fresh), Some("4bf92f3577b34da6a3ce929d0e0e4736"));
        }
    }
}
