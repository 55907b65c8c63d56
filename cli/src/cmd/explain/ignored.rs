//! Saying what of the input could not be read: a wrongly typed field, an unreadable object.
//! Intake keeps the rest of the object; these notes make sure nothing is lost silently.

use lastmile_intake::Ignored;

use crate::output::field;

/// Most notes printed in full; the rest are counted (a hostile input can have millions).
const MAX_LISTED: usize = 50;

/// The notes as a section after the diagnoses (empty when there are none).
pub(super) fn human(ignored: &[Ignored]) -> String {
    if ignored.is_empty() {
        return String::new();
    }
    let mut out = format!(
        "\n\ninput: {} part(s) could not be read and were left out:",
        ignored.len()
    );
    for note in ignored.iter().take(MAX_LISTED) {
        out.push_str("\n  - ");
        out.push_str(&field(&note.to_string()));
    }
    if ignored.len() > MAX_LISTED {
        out.push_str(&format!("\n  … and {} more", ignored.len() - MAX_LISTED));
    }
    out
}

/// `report` (the taxonomy's `{"diagnoses": [...]}`) with `"ignored": [...]` and
/// `"ignored_count"` added when something was ignored.
pub(super) fn json(report: &str, ignored: &[Ignored]) -> anyhow::Result<String> {
    if ignored.is_empty() {
        return Ok(report.to_owned());
    }
    let mut doc: serde_json::Value = serde_json::from_str(report)?;
    if let Some(map) = doc.as_object_mut() {
        let listed: Vec<String> = ignored
            .iter()
            .take(MAX_LISTED)
            .map(|n| lastmile_runtime::redact::text(&n.to_string()).into_owned())
            .collect();
        map.insert("ignored".into(), listed.into());
        map.insert("ignored_count".into(), ignored.len().into());
    }
    Ok(serde_json::to_string_pretty(&doc)?)
}
