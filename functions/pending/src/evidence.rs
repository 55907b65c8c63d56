//! The evidence bundle: the pod, the relevant events and the node groups, bounded in size.
//!
//! Items are added in order of usefulness; an item that would overflow the bound is
//! shrunk (fewer events, fewer groups) or dropped, never cut mid-JSON.

use lastmile_contract::{EvidenceItem, FunctionError};
use lastmile_events::Incident;
use serde_json::{Value, json};

use crate::state::{MAX_GROUPS, StateAnalysis};

const RELEVANT_REASONS: [&str; 9] = [
    "FailedScheduling",
    "FailedCreate",
    "NotTriggerScaleUp",
    "TriggeredScaleUp",
    "FailedScaleUp",
    "ProvisioningFailed",
    "Nominated",
    "Unschedulable",
    "FailedAttachVolume",
];

/// A pod or Job as JSON, without `managedFields` (large, and no diagnosis uses it) and
/// without the last-applied manifest (a second copy of the spec). Secrets (env values,
/// credentials in args) are left to the host's output boundary, which applies the one
/// redaction policy to every evidence item before anything is stored or published.
fn object_json<T: serde::Serialize>(obj: &T) -> Value {
    let mut v = serde_json::to_value(obj).unwrap_or(Value::Null);
    if let Some(meta) = v.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.remove("managedFields");
        if let Some(ann) = meta.get_mut("annotations").and_then(Value::as_object_mut) {
            ann.remove("kubectl.kubernetes.io/last-applied-configuration");
        }
    }
    v
}

fn push_bounded(
    out: &mut Vec<EvidenceItem>,
    item: EvidenceItem,
    used: &mut usize,
    max: usize,
) -> bool {
    if *used + item.bytes.len() > max {
        return false;
    }
    *used += item.bytes.len();
    out.push(item);
    true
}

/// Collects the evidence for `incident` within `max` bytes.
pub fn collect(
    incident: &Incident,
    analysis: Option<&StateAnalysis>,
    max: usize,
) -> Result<Vec<EvidenceItem>, FunctionError> {
    let mut out = Vec::new();
    let mut used = 0usize;
    if let Some(pod) = &incident.pod {
        push_bounded(
            &mut out,
            EvidenceItem::json_document("pod.json", object_json(pod))?,
            &mut used,
            max,
        );
    }
    if let Some(job) = &incident.job {
        push_bounded(
            &mut out,
            EvidenceItem::json_document("job.json", object_json(job))?,
            &mut used,
            max,
        );
    }
    let mut events: Vec<&lastmile_events::KubeEvent> = incident
        .events
        .iter()
        .filter(|e| {
            RELEVANT_REASONS
                .iter()
                .any(|r| e.reason.eq_ignore_ascii_case(r))
                || e.ty.eq_ignore_ascii_case("Warning")
        })
        .collect();
    events.sort_by_key(|e| std::cmp::Reverse(e.last_time));
    let mut take = events.len().min(50);
    while take > 0 {
        let item = EvidenceItem::json("events.json", &events[..take])?;
        if push_bounded(&mut out, item, &mut used, max) {
            break;
        }
        take /= 2;
    }
    if let Some(a) = analysis.filter(|a| a.nodes > 0) {
        let mut take = a.groups.len().min(MAX_GROUPS * 2);
        while take > 0 {
            let doc = json!({
                "nodes_total": a.nodes,
                "nodes_fitting": a.fitting,
                "groups_total": a.groups.len(),
                "groups": &a.groups[..take],
            });
            if push_bounded(
                &mut out,
                EvidenceItem::json_document("node-groups.json", doc)?,
                &mut used,
                max,
            ) {
                break;
            }
            take /= 2;
        }
    }
    if let Some(text) = incident.text.as_deref() {
        let room = max.saturating_sub(used).min(64 * 1024);
        if room > 0 {
            let shown = crate::messages::shorten(text, room.saturating_sub(8));
            push_bounded(
                &mut out,
                EvidenceItem::text("input.txt", shown),
                &mut used,
                max,
            );
        }
    }
    Ok(out)
}
