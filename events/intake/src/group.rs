//! Groups stuck objects into incidents: one per owner and family, events attached.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use k8s_openapi::Metadata;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use lastmile_events::{Incident, IncidentFamily, KubeEvent, ObjectRef};

use crate::document::{Objects, ns_name};
use crate::family::guess_family;
use crate::stuck;

/// One incident being assembled.
struct Draft<'a> {
    family: IncidentFamily,
    subject: ObjectRef,
    owner: Option<ObjectRef>,
    pods: Vec<&'a Pod>,
    job: Option<&'a Job>,
}

/// The incidents of a document, ordered by family then key.
pub(crate) fn incidents(objects: &Objects) -> Vec<Incident> {
    let mut drafts: Drafts<'_> = BTreeMap::new();
    let mut pods: Vec<&Pod> = objects.pods.iter().collect();
    pods.sort_by(|a, b| ns_name(a.metadata()).cmp(&ns_name(b.metadata())));
    for pod in pods {
        let owner = stuck::owner(pod);
        let owned_by_job = owner.as_ref().is_some_and(|o| o.kind == "Job");
        if let Some(family) = stuck::pod_family(pod, owned_by_job) {
            let job = owner.as_ref().and_then(|o| find_job(&objects.jobs, o));
            add_draft(
                &mut drafts,
                Draft {
                    family,
                    subject: object_ref("Pod", pod.metadata()),
                    owner,
                    pods: vec![pod],
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
            let job = find_job(&objects.jobs, &subject);
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
    for (subject, family) in orphan_event_subjects(objects) {
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
        .map(|d| build(d, objects, now))
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

fn build(draft: Draft<'_>, objects: &Objects, now: DateTime<Utc>) -> Incident {
    let mut incident = Incident::new(draft.family, draft.subject, draft.owner, now);
    incident.count = u32::try_from(draft.pods.len()).unwrap_or(u32::MAX).max(1);
    incident.pod = draft.pods.first().map(|p| (*p).clone());
    incident.job = draft.job.cloned();
    let mut about: Vec<ObjectRef> = vec![incident.subject.clone()];
    about.extend(incident.owner.clone());
    about.extend(draft.pods.iter().map(|p| object_ref("Pod", p.metadata())));
    let job_name = incident.job.as_ref().and_then(|j| j.metadata.name.clone());
    let mut events: Vec<KubeEvent> = objects
        .events
        .iter()
        .filter(|e| {
            about.iter().any(|o| same_object(&e.regarding, o))
                || job_name
                    .as_deref()
                    .is_some_and(|j| is_pod_of_job(&e.regarding, j, &incident.subject))
        })
        .cloned()
        .collect();
    events.sort_by(|a, b| {
        (a.last_time, &a.reason, &a.message)
            .partial_cmp(&(b.last_time, &b.reason, &b.message))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    events.dedup();
    incident.events = events;
    let exclude: Vec<(String, String)> = draft
        .pods
        .iter()
        .map(|p| {
            let (ns, name) = ns_name(p.metadata());
            (ns.to_owned(), name.to_owned())
        })
        .collect();
    incident.snapshot = objects.snapshot(&exclude);
    incident
}

/// Warning events about objects absent from the document, grouped by that object, each
/// with the family its events' text suggests.
fn orphan_event_subjects(objects: &Objects) -> Vec<(ObjectRef, IncidentFamily)> {
    let present = |r: &ObjectRef| {
        objects
            .pods
            .iter()
            .any(|p| same_object(r, &object_ref("Pod", p.metadata())))
            || objects
                .jobs
                .iter()
                .any(|j| same_object(r, &object_ref("Job", j.metadata())))
    };
    let mut by_subject: BTreeMap<(String, String, String), String> = BTreeMap::new();
    for ev in &objects.events {
        let terminal_job = matches!(
            ev.reason.as_str(),
            "DeadlineExceeded" | "BackoffLimitExceeded"
        );
        if (ev.ty != "Warning" && !terminal_job)
            || ev.reason == "FailedCreate"
            || present(&ev.regarding)
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

fn find_job<'a>(jobs: &'a [Job], owner: &ObjectRef) -> Option<&'a Job> {
    if owner.kind != "Job" {
        return None;
    }
    jobs.iter()
        .find(|j| same_object(&object_ref("Job", j.metadata()), owner))
}

fn object_ref(kind: &str, meta: &ObjectMeta) -> ObjectRef {
    ObjectRef {
        kind: kind.to_owned(),
        namespace: meta.namespace.clone(),
        name: meta.name.clone().unwrap_or_default(),
        uid: meta.uid.clone(),
        field_path: None,
    }
}

/// Same kind and name, and same namespace when both say one.
fn same_object(a: &ObjectRef, b: &ObjectRef) -> bool {
    a.kind.eq_ignore_ascii_case(&b.kind)
        && a.name == b.name
        && match (&a.namespace, &b.namespace) {
            (Some(x), Some(y)) => x == y,
            _ => true,
        }
}

/// A pod the Job created (named `<job>-<suffix>`) in the Job's namespace: its events stay
/// relevant after the Job controller deleted the pod itself.
fn is_pod_of_job(regarding: &ObjectRef, job: &str, subject: &ObjectRef) -> bool {
    regarding.kind == "Pod"
        && regarding
            .name
            .strip_prefix(job)
            .is_some_and(|rest| rest.starts_with('-'))
        && (regarding.namespace.is_none() || regarding.namespace == subject.namespace)
}

fn family_rank(family: IncidentFamily) -> usize {
    IncidentFamily::ALL
        .iter()
        .position(|f| *f == family)
        .unwrap_or(usize::MAX)
}
