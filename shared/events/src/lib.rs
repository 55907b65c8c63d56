//! The event model of lastmile: everything that travels on the bus.
//!
//! Every message is a [CloudEvents 1.0](https://github.com/cloudevents/spec) event in
//! **structured mode**: the NATS message body (and a Lambda invocation payload) is the whole
//! JSON envelope, `data` included. Structured mode was chosen because the same bytes then
//! work unchanged on NATS, as a Lambda payload, in a file under `events/examples/`, and in an
//! evidence bundle. The W3C trace context travels twice: as the CloudEvents distributed-tracing
//! extension attribute `traceparent` inside the envelope, and as the `traceparent` NATS header
//! (which the runtime prefers when both are present).
//!
//! This crate is the contract between producers and functions, so it has no transport
//! dependencies: no NATS, no AWS, no HTTP.

pub mod ci;
pub mod class;
pub mod diagnosis;
pub mod envelope;
pub mod facts;
pub mod incident;
pub mod k8s;
pub mod ranking;
pub mod rollout;
pub mod schema;
pub mod subjects;
pub mod told;

pub use ci::{CiEvent, CiEventKind, CiProvider, CiRunRef, DeployedWorkload};
pub use diagnosis::{
    Class, Diagnosis, DiagnosisReport, EvidenceObject, EvidenceRef, Remediation,
    RemediationCommand, Subject,
};
pub use envelope::{CloudEvent, EnvelopeError, EventType};
pub use incident::{Incident, IncidentFamily, IncidentStatus, ObjectRef};
pub use k8s::{ClusterSnapshot, ConfigObject, K8sObservation, KubeEvent};
