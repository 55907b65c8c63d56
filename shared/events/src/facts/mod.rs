//! Kubernetes facts: what the API's own fields mean, decided once for every producer and
//! function.
//!
//! Intake (recorded objects), the watcher (live objects) and the functions all ask the same
//! questions: is this pod stuck, and in which family; is this Job finished; which workload
//! owns this pod; which CI run deployed it; which Service does `db.shop:5432` name and
//! which pods does it reach. Each answer lives here once, read from fields the API stores
//! (never from the columns `kubectl get` computes, reference §7.2), so a recorded cluster
//! and a live one cannot be classified differently.
//!
//! Pure functions over `k8s-openapi` types: no clock (callers pass `now`), no I/O.

pub mod annotations;
pub mod job;
pub mod pod;
pub mod provenance;
pub mod service;
pub mod waits;
pub mod workload;

pub use annotations::ci_run_of;
pub use job::{
    DEFAULT_STUCK_AFTER, JobOverdue, JobTerminal, is_suspended, job_overdue, job_terminal,
    suspended_since,
};
pub use pod::{
    IMAGE_PULL_REASONS, StuckPod, is_image_pull_reason, is_native_sidecar, stuck_pod,
    waiting_reason,
};
pub use provenance::{Source, ValueOrigin, manifest_spec, quota_requirements, resource_origins};
pub use service::{DnsTarget, ReadyEndpoint, ServiceIndex};
pub use waits::{Dependency, unresolved, waited_on};
pub use workload::{is_pod_name_of_job, kueue_workload_job, object_ref, workload_key, workload_of};
