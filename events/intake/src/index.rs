//! The document indexed once, so grouping costs the size of the input, not its square.
//!
//! Kubernetes matches objects by kind, name and namespace; an event's `involvedObject` may
//! leave the namespace out. Every map here is keyed by name (the part always present), and
//! the few candidates under a name are checked with [`same_object`], the one matching rule.

use std::collections::{BTreeMap, HashMap};

use k8s_openapi::Metadata;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use lastmile_events::ObjectRef;

use crate::document::Objects;

/// Borrowed lookups over one document's objects.
pub(crate) struct Index<'a> {
    objects: &'a Objects,
    /// Jobs by name.
    jobs: HashMap<&'a str, Vec<&'a Job>>,
    /// Pods and Jobs present in the document, by name: `(kind, namespace)`.
    present: HashMap<&'a str, Vec<(&'static str, Option<&'a str>)>>,
    /// Events by the name of the object they are about (indices into `objects.events`).
    events_by_name: HashMap<&'a str, Vec<usize>>,
    /// Events about pods, by pod name, ordered: a Job's pods are a name-prefix range.
    pod_events: BTreeMap<&'a str, Vec<usize>>,
    /// Events about Kueue Workloads, by the name of the Job each stands for
    /// ([`lastmile_events::facts::kueue_workload_job`]).
    workload_events: HashMap<&'a str, Vec<usize>>,
}

impl<'a> Index<'a> {
    /// One pass over pods, jobs and events.
    pub fn new(objects: &'a Objects) -> Self {
        let mut jobs: HashMap<&str, Vec<&Job>> = HashMap::new();
        let mut present: HashMap<&str, Vec<(&'static str, Option<&str>)>> = HashMap::new();
        for job in &objects.jobs {
            let meta = job.metadata();
            let name = meta.name.as_deref().unwrap_or("");
            jobs.entry(name).or_default().push(job);
            present
                .entry(name)
                .or_default()
                .push(("Job", meta.namespace.as_deref()));
        }
        for pod in &objects.pods {
            let meta = pod.metadata();
            present
                .entry(meta.name.as_deref().unwrap_or(""))
                .or_default()
                .push(("Pod", meta.namespace.as_deref()));
        }
        let mut events_by_name: HashMap<&str, Vec<usize>> = HashMap::new();
        let mut pod_events: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        let mut workload_events: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, ev) in objects.events.iter().enumerate() {
            let name = ev.regarding.name.as_str();
            events_by_name.entry(name).or_default().push(i);
            if ev.regarding.kind == "Pod" {
                pod_events.entry(name).or_default().push(i);
            }
            if let Some(job) = kueue_job(&ev.regarding) {
                workload_events.entry(job).or_default().push(i);
            }
        }
        Self {
            objects,
            jobs,
            present,
            events_by_name,
            pod_events,
            workload_events,
        }
    }

    /// The Job `owner` names, when the owner is a Job the document carries.
    pub fn job(&self, owner: &ObjectRef) -> Option<&'a Job> {
        if owner.kind != "Job" {
            return None;
        }
        self.jobs
            .get(owner.name.as_str())?
            .iter()
            .copied()
            .find(|j| same_object(&object_ref("Job", j.metadata()), owner))
    }

    /// True when the document carries the Pod or Job `r` is about.
    ///
    /// A Kueue Workload counts as carried when the Job it stands for is: its events are the
    /// Job's.
    pub fn carries(&self, r: &ObjectRef) -> bool {
        if let Some(job) = kueue_job(r) {
            let job = ObjectRef {
                kind: "Job".into(),
                name: job.to_owned(),
                ..r.clone()
            };
            return self.carries(&job);
        }
        self.present.get(r.name.as_str()).is_some_and(|found| {
            found.iter().any(|(kind, ns)| {
                r.kind.eq_ignore_ascii_case(kind)
                    && match (r.namespace.as_deref(), ns) {
                        (Some(x), Some(y)) => x == *y,
                        _ => true,
                    }
            })
        })
    }

    /// Indices of the events about any of `about`, plus, when `job` is given, the events
    /// about pods the Job created (`<job>-<suffix>`) and about its Kueue Workload in
    /// `namespace`: those stay relevant after the Job controller deleted the pods, and say
    /// why a queued Job is not admitted. Sorted, without repeats.
    pub fn events_about(
        &self,
        about: &[&ObjectRef],
        job: Option<&str>,
        namespace: Option<&str>,
    ) -> Vec<usize> {
        let events = &self.objects.events;
        let mut found: Vec<usize> = Vec::new();
        for o in about {
            if let Some(ids) = self.events_by_name.get(o.name.as_str()) {
                found.extend(
                    ids.iter()
                        .copied()
                        .filter(|&i| same_object(&events[i].regarding, o)),
                );
            }
        }
        if let Some(job) = job {
            let prefix = format!("{job}-");
            let in_namespace = |&i: &usize| {
                let ns = events[i].regarding.namespace.as_deref();
                ns.is_none() || ns == namespace
            };
            for (_, ids) in self
                .pod_events
                .range(prefix.as_str()..)
                .take_while(|(name, _)| name.starts_with(&prefix))
            {
                found.extend(ids.iter().copied().filter(in_namespace));
            }
            if let Some(ids) = self.workload_events.get(job) {
                found.extend(ids.iter().copied().filter(in_namespace));
            }
        }
        found.sort_unstable();
        found.dedup();
        found
    }
}

/// The Job a Kueue Workload reference stands for.
fn kueue_job(r: &ObjectRef) -> Option<&str> {
    (r.kind == "Workload")
        .then(|| lastmile_events::facts::kueue_workload_job(&r.name))
        .flatten()
}

/// A reference to an object of `kind` from its metadata.
pub(crate) fn object_ref(kind: &str, meta: &ObjectMeta) -> ObjectRef {
    ObjectRef {
        kind: kind.to_owned(),
        namespace: meta.namespace.clone(),
        name: meta.name.clone().unwrap_or_default(),
        uid: meta.uid.clone(),
        field_path: None,
    }
}

/// Same kind and name, and same namespace when both say one.
pub(crate) fn same_object(a: &ObjectRef, b: &ObjectRef) -> bool {
    a.kind.eq_ignore_ascii_case(&b.kind)
        && a.name == b.name
        && match (&a.namespace, &b.namespace) {
            (Some(x), Some(y)) => x == y,
            _ => true,
        }
}
