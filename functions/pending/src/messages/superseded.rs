//! A pasted event table whose `FailedScheduling` rows disagree: the newest row (the
//! smallest age) is the scheduler's current opinion, and a cause only older rows name is
//! history (a claim bound since, a node added or fixed since), as [`crate::combine`] judges
//! events that carry their times.

use lastmile_events::Class;

use super::{fit_classes, message_at, scheduler::parse_fit};

/// The scheduling classes that only `FailedScheduling` rows older than the newest one
/// name, when `text` holds two or more such rows with ages (`2m38s`, `(x3 over 2m49s)`)
/// and the newest names a cause of its own. Empty otherwise.
pub(crate) fn superseded(text: &str) -> Vec<Class> {
    let mut rows: Vec<(u64, Vec<Class>)> = Vec::new();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        let Some(after) = line.find("FailedScheduling").map(|i| &line[i + 16..]) else {
            continue;
        };
        let Some(age) = after.split_whitespace().next().and_then(age_seconds) else {
            continue;
        };
        let Some(at) = line.find("0/") else {
            continue;
        };
        let Some(fit) = parse_fit(&message_at(text, start + at)) else {
            continue;
        };
        rows.push((age, fit_classes(&fit)));
    }
    if rows.len() < 2 {
        return Vec::new();
    }
    let newest = rows.iter().map(|(age, _)| *age).min().unwrap_or(0);
    let current: Vec<&Class> = rows
        .iter()
        .filter(|(age, _)| *age == newest)
        .flat_map(|(_, classes)| classes)
        .collect();
    if current.is_empty() {
        return Vec::new();
    }
    let mut old: Vec<Class> = rows
        .iter()
        .filter(|(age, _)| *age > newest)
        .flat_map(|(_, classes)| classes)
        .filter(|c| !current.contains(c))
        .cloned()
        .collect();
    old.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    old.dedup();
    old
}

/// A kubectl age (`88s`, `2m38s`, `5h`, `3d4h`) in seconds; `None` for anything else.
fn age_seconds(age: &str) -> Option<u64> {
    let mut total = 0u64;
    let mut digits = String::new();
    let mut any = false;
    for c in age.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            'y' => 365 * 86_400,
            _ => return None,
        };
        total = total.checked_add(digits.parse::<u64>().ok()?.checked_mul(unit)?)?;
        digits.clear();
        any = true;
    }
    (any && digits.is_empty()).then_some(total)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
