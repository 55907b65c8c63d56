//! The words of an incident: what a person would paste about it.
//!
//! Pasted text as it came; for objects the watcher captured, the same strings a report
//! quotes: event reasons and messages, container waiting/terminated reasons and messages,
//! the pod's and the Job's condition messages.

use lastmile_events::Incident;

/// The text the model reads for `incident`.
pub fn words(incident: &Incident) -> String {
    let mut out = incident.text.clone().unwrap_or_default();
    let mut push = |s: Option<&str>| {
        if let Some(s) = s.filter(|s| !s.is_empty()) {
            out.push('\n');
            out.push_str(s);
        }
    };
    for e in &incident.events {
        push(Some(&e.reason));
        push(Some(e.clean_message()));
    }
    if let Some(status) = incident.pod.as_ref().and_then(|p| p.status.as_ref()) {
        push(status.reason.as_deref());
        push(status.message.as_deref());
        for c in status.conditions.iter().flatten() {
            push(c.reason.as_deref());
            push(c.message.as_deref());
        }
        let containers = status
            .init_container_statuses
            .iter()
            .flatten()
            .chain(status.container_statuses.iter().flatten());
        for c in containers {
            for state in [c.state.as_ref(), c.last_state.as_ref()]
                .into_iter()
                .flatten()
            {
                if let Some(w) = &state.waiting {
                    push(w.reason.as_deref());
                    push(w.message.as_deref());
                }
                if let Some(t) = &state.terminated {
                    push(t.reason.as_deref());
                    push(t.message.as_deref());
                }
            }
        }
    }
    if let Some(status) = incident.job.as_ref().and_then(|j| j.status.as_ref()) {
        for c in status.conditions.iter().flatten() {
            push(c.reason.as_deref());
            push(c.message.as_deref());
        }
    }
    out
}
