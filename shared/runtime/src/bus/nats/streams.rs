//! Streams: lastmile's [`StreamSpec`]s as JetStream configurations, created or updated
//! idempotently, and the lookup of the stream that holds a consumer's subjects.

use std::time::Duration;

use async_nats::jetstream::ErrorCode;
use async_nats::jetstream::context::{CreateStreamErrorKind, GetStreamByNameErrorKind};
use async_nats::jetstream::stream::{self, DiscardPolicy, RetentionPolicy, StorageType};
use lastmile_events::subjects::{Retention, STREAMS, StreamSpec};

use super::NatsBus;
use crate::bus::BusError;
use crate::bus::memory::subject_matches;
use crate::error::Detail;

/// The JetStream stream configuration for one of lastmile's [`StreamSpec`]s, with
/// `replicas` copies (1 on a single server, 3 on a three-node cluster).
pub fn stream_config(spec: &StreamSpec, replicas: usize) -> stream::Config {
    stream::Config {
        name: spec.name.to_owned(),
        subjects: spec.subjects.iter().map(|s| (*s).to_owned()).collect(),
        description: Some(spec.description.to_owned()),
        retention: match spec.retention {
            Retention::Limits => RetentionPolicy::Limits,
            Retention::WorkQueue => RetentionPolicy::WorkQueue,
        },
        max_age: Duration::from_secs(spec.max_age_secs),
        duplicate_window: Duration::from_secs(spec.duplicate_window_secs),
        max_message_size: spec.max_msg_size,
        storage: StorageType::File,
        discard: DiscardPolicy::Old,
        num_replicas: replicas.max(1),
        ..Default::default()
    }
}

impl NatsBus {
    /// Creates or updates every stream lastmile uses. Safe to run on every start and from
    /// every replica at once.
    pub async fn ensure_streams(&self) -> Result<(), BusError> {
        for spec in STREAMS {
            self.ensure_stream(spec).await?;
        }
        Ok(())
    }

    /// Creates or updates one stream; returns the server's view of it. Retried while the
    /// cluster cannot answer (see [`super::retry`]).
    pub async fn ensure_stream(&self, spec: &StreamSpec) -> Result<stream::Info, BusError> {
        let what = format!("creating stream {}", spec.name);
        let info = self
            .retrying(&what, || async {
                let call = self
                    .js
                    .create_or_update_stream(stream_config(spec, self.stream_replicas));
                self.bounded(&what, call).await?.map_err(|e| {
                    let detail = format!("cannot create or update stream {}: {e}", spec.name);
                    let transient = match e.kind() {
                        CreateStreamErrorKind::TimedOut
                        | CreateStreamErrorKind::JetStreamUnavailable => true,
                        CreateStreamErrorKind::JetStream(js) => cluster_not_ready(js.error_code()),
                        _ => false,
                    };
                    if transient {
                        BusError::Unavailable(Detail::caused_by(detail, e))
                    } else {
                        BusError::Rejected(Detail::caused_by(detail, e))
                    }
                })
            })
            .await?;
        tracing::debug!(stream = spec.name, "Stream ensured.");
        Ok(info)
    }

    /// The stream holding `subjects`: lastmile's own table first, else the server's answer.
    pub(super) async fn stream_of(&self, subjects: &[String]) -> Result<String, BusError> {
        let first = subjects
            .first()
            .ok_or_else(|| BusError::Rejected("a consumer needs at least one subject".into()))?;
        let known = STREAMS.iter().find(|s| {
            subjects.iter().all(|subject| {
                s.subjects
                    .iter()
                    .any(|p| p == subject || subject_matches(p, subject))
            })
        });
        if let Some(spec) = known {
            return Ok(spec.name.to_owned());
        }
        let what = "looking up the stream";
        self.retrying(what, || async {
            self.bounded(what, self.js.stream_by_subject(first.clone()))
                .await?
                .map_err(|e| {
                    let detail = format!("no stream captures {first}: {e}");
                    let transient = match e.kind() {
                        GetStreamByNameErrorKind::Request => true,
                        GetStreamByNameErrorKind::JetStream(js) => {
                            cluster_not_ready(js.error_code())
                        }
                        _ => false,
                    };
                    if transient {
                        BusError::Unavailable(Detail::caused_by(detail, e))
                    } else {
                        BusError::Rejected(Detail::caused_by(detail, e))
                    }
                })
        })
        .await
    }
}

/// JetStream API error codes that mean "the cluster cannot answer this yet" (no meta leader,
/// no stream or consumer leader, peers not yet known), not "never".
pub(super) fn cluster_not_ready(code: ErrorCode) -> bool {
    [
        ErrorCode::CLUSTER_INCOMPLETE,
        ErrorCode::CLUSTER_NO_PEERS,
        ErrorCode::CLUSTER_NOT_ACTIVE,
        ErrorCode::CLUSTER_NOT_ASSIGNED,
        ErrorCode::CLUSTER_NOT_AVAILABLE,
        ErrorCode::CLUSTER_NOT_LEADER,
        ErrorCode::INSUFFICIENT_RESOURCES,
        ErrorCode::RAFT_GENERAL,
    ]
    .contains(&code)
}
