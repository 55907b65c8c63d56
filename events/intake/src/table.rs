//! Recovers Kubernetes events from the tables `kubectl describe` and `kubectl get events`
//! print, as people paste them: aligned columns (two or more spaces or tabs apart), rows
//! wrapped by a terminal, `(x17 over 9m)` counts, or a lone row without its header.

use std::sync::LazyLock;

use lastmile_events::{KubeEvent, ObjectRef};
use regex::Regex;

/// Column separator: kubectl's tabwriter pads with at least two spaces (describe) or three
/// (get); a paste may have kept tabs.
static SEP: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\t+\s*|\s{2,}").expect("column-separator regex"));
/// `(x17 over 9m)` in an Age/LAST SEEN column.
static REPEAT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\(x(\d+) over [^)]*\)").expect("repeat-count regex"));

/// Column names the event tables of current and old kubectl releases use.
const HEADER_NAMES: &[&str] = &[
    "TYPE",
    "REASON",
    "AGE",
    "FROM",
    "MESSAGE",
    "LAST SEEN",
    "FIRST SEEN",
    "COUNT",
    "OBJECT",
    "NAMESPACE",
    "NAME",
    "KIND",
    "SUBOBJECT",
    "SUBOBJECTPATH",
    "SOURCE",
    "FIRSTSEEN",
    "LASTSEEN",
];

/// Splits a row into at most `limit` fields; the last field keeps the rest verbatim
/// (messages may contain two spaces, e.g. LimitRange's `.  No request is specified`).
fn split(line: &str, limit: usize) -> Vec<&str> {
    SEP.splitn(line.trim(), limit.max(1))
        .map(str::trim)
        .filter(|f| !f.is_empty())
        .collect()
}

fn is_header(fields: &[&str]) -> bool {
    let upper: Vec<String> = fields.iter().map(|f| f.to_uppercase()).collect();
    fields.len() >= 3
        && upper.iter().all(|f| HEADER_NAMES.contains(&f.as_str()))
        && upper.iter().any(|f| f == "REASON")
        && upper.iter().any(|f| f == "MESSAGE")
}

fn is_type(field: &str) -> bool {
    field.eq_ignore_ascii_case("Warning") || field.eq_ignore_ascii_case("Normal")
}

/// A top-level `Key:` line of `kubectl describe` (a new section), which ends a table.
fn is_section(line: &str) -> bool {
    !line.starts_with(char::is_whitespace)
        && line.split_once(':').is_some_and(|(k, _)| {
            !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == ' ')
        })
}

/// Every event row found in `text`. Rows without an object column are about `default`.
pub(crate) fn events_from_text(text: &str, default: &ObjectRef) -> Vec<KubeEvent> {
    let mut events: Vec<KubeEvent> = Vec::new();
    let mut header: Option<Vec<String>> = None;
    let mut open_row = false;
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.is_empty() {
            header = None;
            open_row = false;
            continue;
        }
        let fields = split(line, usize::MAX);
        if is_header(&fields) {
            header = Some(fields.iter().map(|f| f.to_uppercase()).collect());
            open_row = false;
            continue;
        }
        if trimmed.chars().all(|c| c == '-' || c.is_whitespace()) {
            continue;
        }
        if let Some(ev) = row(line, header.as_deref(), default) {
            events.push(ev);
            open_row = header.is_some();
            continue;
        }
        // A terminal-wrapped continuation of the previous row's message.
        match events.last_mut() {
            Some(last) if open_row && !is_section(line) => {
                last.message.push(' ');
                last.message.push_str(trimmed);
            }
            _ => {
                header = None;
                open_row = false;
            }
        }
    }
    events
}

/// Parses one row, by the header's columns when they line up, else by its shape
/// (`<Type> <Reason> ... <Message>`).
fn row(line: &str, header: Option<&[String]>, default: &ObjectRef) -> Option<KubeEvent> {
    if let Some(cols) = header {
        let fields = split(line, cols.len());
        if fields.len() == cols.len() {
            let get = |name: &str| {
                cols.iter()
                    .position(|c| c == name)
                    .and_then(|i| fields.get(i).copied())
            };
            if get("TYPE").is_some_and(is_type) {
                let mut ev = KubeEvent {
                    ty: capitalise(get("TYPE").unwrap_or("")),
                    reason: get("REASON").unwrap_or("").to_owned(),
                    message: get("MESSAGE").unwrap_or("").to_owned(),
                    regarding: regarding(
                        get("OBJECT"),
                        get("KIND"),
                        get("NAME"),
                        get("NAMESPACE"),
                        default,
                    ),
                    count: 1,
                    reporting_controller: component(get("FROM").or(get("SOURCE")).unwrap_or("")),
                    ..KubeEvent::default()
                };
                ev.count = repeat_count(get("AGE").or(get("LAST SEEN")).unwrap_or(""))
                    .or_else(|| get("COUNT").and_then(|c| c.parse().ok()))
                    .unwrap_or(1)
                    .max(1);
                return Some(ev);
            }
        }
    }
    // Shape-based: a `Warning`/`Normal` field followed by a reason and more.
    let fields = split(line, usize::MAX);
    let at = fields.iter().position(|f| is_type(f))?;
    let reason = fields.get(at + 1)?;
    if !reason.chars().all(|c| c.is_ascii_alphanumeric()) || fields.len() < at + 3 {
        return None;
    }
    // Everything after the reason: `[age] [from] message`; the message is the rest of the
    // line from the last column that is not an age or a component name.
    let rest = &fields[at + 2..];
    let (count, skip) = rest
        .first()
        .and_then(|a| {
            repeat_count(a)
                .map(|c| (c, 1))
                .or_else(|| looks_like_age(a).then_some((1, 1)))
        })
        .unwrap_or((1, 0));
    let (from, skip) = match rest.get(skip) {
        Some(f) if rest.len() > skip + 1 && looks_like_component(f) => (component(f), skip + 1),
        _ => (String::new(), skip),
    };
    let message = message_from(line, rest.get(skip).copied()?);
    Some(KubeEvent {
        ty: capitalise(fields[at]),
        reason: (*reason).to_owned(),
        message,
        regarding: default.clone(),
        count,
        reporting_controller: from,
        ..KubeEvent::default()
    })
}

/// The rest of `line` from where `first` starts (keeps the message's own spacing).
fn message_from(line: &str, first: &str) -> String {
    match line.find(first) {
        Some(i) => line[i..].trim().to_owned(),
        None => first.to_owned(),
    }
}

fn repeat_count(age: &str) -> Option<u32> {
    let caps = REPEAT.captures(age)?;
    caps.get(1)?.as_str().parse().ok()
}

fn looks_like_age(s: &str) -> bool {
    s == "<unknown>"
        || (s.len() <= 12
            && s.chars().next().is_some_and(|c| c.is_ascii_digit())
            && s.chars().all(|c| c.is_ascii_alphanumeric()))
}

fn looks_like_component(s: &str) -> bool {
    let known = [
        "scheduler",
        "kubelet",
        "controller",
        "autoscaler",
        "karpenter",
        "provisioner",
        "attachdetach",
    ];
    let lower = s.to_lowercase();
    !s.contains(": ") && (known.iter().any(|k| lower.contains(k)) || s.starts_with('{'))
}

/// `kubelet, node-1` / `{default-scheduler }` → the component name.
fn component(s: &str) -> String {
    let s = s.trim().trim_start_matches('{').trim_end_matches('}');
    s.split([',', ' ']).next().unwrap_or("").trim().to_owned()
}

fn capitalise(s: &str) -> String {
    if s.eq_ignore_ascii_case("warning") {
        "Warning".into()
    } else if s.eq_ignore_ascii_case("normal") {
        "Normal".into()
    } else {
        s.to_owned()
    }
}

/// The event's object from an `OBJECT` column (`pod/x`) or `KIND`+`NAME` columns.
fn regarding(
    object: Option<&str>,
    kind: Option<&str>,
    name: Option<&str>,
    namespace: Option<&str>,
    default: &ObjectRef,
) -> ObjectRef {
    let (kind, name) = match (object.and_then(|o| o.split_once('/')), kind, name) {
        (Some((k, n)), _, _) => (kind_from_resource(k), n.to_owned()),
        (None, Some(k), Some(n)) => (k.to_owned(), n.to_owned()),
        _ => return default.clone(),
    };
    ObjectRef {
        kind,
        namespace: namespace
            .map(str::to_owned)
            .or_else(|| default.namespace.clone()),
        name,
        ..ObjectRef::default()
    }
}

/// `pod` → `Pod`, `persistentvolumeclaim` → `PersistentVolumeClaim`.
pub(crate) fn kind_from_resource(resource: &str) -> String {
    let known = [
        "Pod",
        "Job",
        "Node",
        "CronJob",
        "ReplicaSet",
        "Deployment",
        "StatefulSet",
        "DaemonSet",
        "PersistentVolumeClaim",
        "PersistentVolume",
        "ResourceQuota",
        "Service",
    ];
    let base = resource.split('.').next().unwrap_or(resource);
    known
        .iter()
        .find(|k| k.eq_ignore_ascii_case(base) || format!("{k}s").eq_ignore_ascii_case(base))
        .map_or_else(|| base.to_owned(), |k| (*k).to_owned())
}

#[cfg(test)]
mod tests;
