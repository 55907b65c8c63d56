//! Groups stuck objects into incidents: one per owner and family, events attached.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use k8s_openapi::Metadata;
use k8s_openapi::api::batch::v1::Job;
use lastmile_events::{Incident, IncidentFamily, KubeEvent, ObjectRef};

use crate::document::{Objects, ns_name};
use crate::family::guess_family;
use crate::index::{Index, object_ref};
use crate::stuck;

/// An incident and the document's pods it stands for (indices into `Objects::pods`).
pub(crate) struct Found {
    pub incident: Incident,
    pub pods: Vec<usize>,
}

/// One incident being assembled.
struct Draft<'a> {
    family: IncidentFamily,
    subject: ObjectRef,
    owner: Option<ObjectRef>,
    pods: Vec<usize>,
    job: Option<&'a Job>,
}

/// The incidents of a document, ordered by family then key. Linear in the document: every
/// lookup goes through one [`Index`].
pub(crate) fn incidents(objects: &Objects) -> Vec<Found> {
    let index = Index::new(objects);
    let mut drafts: Drafts<'_> = BTreeMap::new();
    let mut pods: Vec<usize> = (0..objects.pods.len()).collect();
    pods.sort_by(|&a, &b| {
        ns_name(objects.pods[a].metadata()).cmp(&ns_name(objects.pods[b].metadata()))
    });
    for i in pods {
        let pod = &objects.pods[i];
        let owner = stuck::owner(pod);
        let owned_by_job = owner.as_ref().is_some_and(|o| o.kind == "Job");
        if let Some(family) = stuck::pod_family(pod, owned_by_job) {
            let job = owner.as_ref().and_then(|o| index.job(o));
            add_draft(
                &mut drafts,
                Draft {
                    family,
                    subject: object_ref("Pod", pod.metadata()),
                    owner,
                    pods: vec![i],
                    job,
                },
            );
        }
    }
    for job in &objects.jobs {
        if stuck::job_stuck(job, objects.newest) {
            add_draft(
                &mut drafts,
                Draft {
                    family: IncidentFamily::Job,
                    subject: object_ref("Job", job.metadata()),
                    owner: None,
                    pods: Vec::new(),
                    job: Some(job),
                },
            );
        }
    }
    // Controllers whose pods admission rejected: no pod exists, only FailedCreate events on
    // the owner (reference §2.1). Admission is the pending function's family.
    for ev in &objects.events {
        if ev.reason == "FailedCreate" && ev.regarding.kind != "Pod" {
            let subject = ObjectRef {
                field_path: None,
                ..ev.regarding.clone()
            };
            let job = index.job(&subject);
            add_draft(
                &mut drafts,
                Draft {
                    family: IncidentFamily::Pending,
                    subject,
                    owner: None,
                    pods: Vec::new(),
                    job,
                },
            );
        }
    }
    // Warning events about objects the document does not carry (a pasted EventList):
    // group them by the object they are about and route by their text.
    for (subject, family) in orphan_event_subjects(objects, &index) {
        add_draft(
            &mut drafts,
            Draft {
                family,
                subject,
                owner: None,
                pods: Vec::new(),
                job: None,
            },
        );
    }

    let now = objects.newest.unwrap_or(DateTime::<Utc>::UNIX_EPOCH);
    drafts
        .into_values()
        .map(|d| build(d, objects, &index, now))
        .collect()
}

type Drafts<'a> = BTreeMap<(usize, String), Draft<'a>>;

/// Adds a draft, or the draft's pods to the one with the same key.
fn add_draft<'a>(drafts: &mut Drafts<'a>, draft: Draft<'a>) {
    let key = Incident::key_for(draft.family, &draft.subject, draft.owner.as_ref());
    let rank = family_rank(draft.family);
    match drafts.get_mut(&(rank, key.clone())) {
        Some(existing) => existing.pods.extend(draft.pods),
        None => {
            drafts.insert((rank, key), draft);
        }
    }
}

fn build(draft: Draft<'_>, objects: &Objects, index: &Index<'_>, now: DateTime<Utc>) -> Found {
    let mut incident = Incident::new(draft.family, draft.subject, draft.owner, now);
    incident.count = u32::try_from(draft.pods.len()).unwrap_or(u32::MAX).max(1);
    incident.pod = draft
        .pods
        .first()
        .map(|&p| Box::new(objects.pods[p].clone()));
    incident.job = draft.job.cloned().map(Box::new);
    let pod_refs: Vec<ObjectRef> = draft
        .pods
        .iter()
        .map(|&p| object_ref("Pod", objects.pods[p].metadata()))
        .collect();
    let mut about: Vec<&ObjectRef> = vec![&incident.subject];
    about.extend(incident.owner.as_ref());
    about.extend(&pod_refs);
    let job_name = incident
        .job
        .as_ref()
        .and_then(|j| j.metadata.name.as_deref());
    let mut events: Vec<KubeEvent> = index
        .events_about(&about, job_name, incident.subject.namespace.as_deref())
        .into_iter()
        .map(|i| objects.events[i].clone())
        .collect();
    events.sort_by(|a, b| {
        (a.last_time, &a.reason, &a.message)
            .partial_cmp(&(b.last_time, &b.reason, &b.message))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    events.dedup();
    incident.events = events;
    Found {
        incident,
        pods: draft.pods,
    }
}

/// Warning events about objects absent from the document, grouped by that object, each
/// with the family its events' text suggests.
fn orphan_event_subjects(objects: &Objects, index: &Index<'_>) -> Vec<(ObjectRef, IncidentFamily)> {
    let mut by_subject: BTreeMap<(String, String, String), String> = BTreeMap::new();
    for ev in &objects.events {
        let terminal_job = matches!(
            ev.reason.as_str(),
            "DeadlineExceeded" | "BackoffLimitExceeded"
        );
        if (ev.ty != "Warning" && !terminal_job)
            || ev.reason == "FailedCreate"
            || index.carries(&ev.regarding)
        {
            continue;
        }
        let r = &ev.regarding;
        let key = (
            r.namespace.clone().unwrap_or_default(),
            r.kind.clone(),
            r.name.clone(),
        );
        let text = by_subject.entry(key).or_default();
        text.push_str(&ev.reason);
        text.push(' ');
        text.push_str(ev.clean_message());
        text.push('\n');
    }
    by_subject
        .into_iter()
        .map(|((ns, kind, name), text)| {
            let subject = ObjectRef {
                kind,
                namespace: (!ns.is_empty()).then_some(ns),
                name,
                ..ObjectRef::default()
            };
            (subject, guess_family(&text))
        })
        .collect()
}

fn family_rank(family: IncidentFamily) -> usize {
    IncidentFamily::ALL
        .iter()
        .position(|f| *f == family)
        .unwrap_or(usize::MAX)
}
