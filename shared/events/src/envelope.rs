//! The CloudEvents 1.0 envelope (structured mode, JSON).

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize, de::DeserializeOwned};

/// CloudEvents `specversion` this crate writes and accepts.
pub const SPEC_VERSION: &str = "1.0";
/// The only `datacontenttype` lastmile produces.
pub const JSON_CONTENT_TYPE: &str = "application/json";

/// A CloudEvents 1.0 envelope around a typed payload.
///
/// Field names are the CloudEvents attribute names; `traceparent`/`tracestate` are the
/// distributed-tracing extension attributes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CloudEvent<T> {
    /// Always `"1.0"`.
    pub specversion: String,
    /// Unique per source; also used as the JetStream `Nats-Msg-Id`, so producers derive it
    /// from the content when a re-send must be recognised as a duplicate.
    pub id: String,
    /// URI-reference of the producer, e.g. `/lastmile/watcher/prod-eu1`.
    pub source: String,
    /// Event type, one of [`EventType`], e.g. `dev.lastmile.incident.v1`.
    #[serde(rename = "type")]
    pub ty: String,
    /// What the event is about, e.g. `pod/ci/migrate-x7k2p`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// When the occurrence happened.
    pub time: DateTime<Utc>,
    /// Always `application/json`.
    #[serde(default = "default_content_type")]
    pub datacontenttype: String,
    /// W3C trace context of the span that produced the event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traceparent: Option<String>,
    /// W3C tracestate accompanying `traceparent`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracestate: Option<String>,
    /// The typed payload.
    pub data: T,
}

fn default_content_type() -> String {
    JSON_CONTENT_TYPE.to_owned()
}

/// Why bytes could not be read as an event. Always bad input: retrying cannot help.
#[derive(Debug, thiserror::Error)]
pub enum EnvelopeError {
    /// Not JSON, or JSON that does not fit the envelope or the payload type.
    #[error("malformed CloudEvent: {0}")]
    Json(#[from] serde_json::Error),
    /// A well-formed envelope with an unsupported `specversion`.
    #[error("unsupported CloudEvents specversion {0:?} (expected \"1.0\")")]
    SpecVersion(String),
    /// The envelope's `type` is not the one the consumer expects.
    #[error("unexpected event type {found:?}, expected {expected:?}")]
    Type {
        /// The type found in the envelope.
        found: String,
        /// The type the consumer handles.
        expected: &'static str,
    },
    /// A required attribute is empty.
    #[error("CloudEvent attribute {0:?} is empty")]
    Empty(&'static str),
}

/// Payload types that have a fixed CloudEvents `type`.
pub trait EventType: Serialize + DeserializeOwned {
    /// The CloudEvents `type` attribute, versioned (`dev.lastmile.<name>.v1`).
    const TYPE: &'static str;
}

impl<T: EventType> CloudEvent<T> {
    /// Wraps `data` in a new envelope with the given id, source and subject, stamped `time`.
    pub fn new(
        id: impl Into<String>,
        source: impl Into<String>,
        subject: Option<String>,
        time: DateTime<Utc>,
        data: T,
    ) -> Self {
        Self {
            specversion: SPEC_VERSION.to_owned(),
            id: id.into(),
            source: source.into(),
            ty: T::TYPE.to_owned(),
            subject,
            time,
            datacontenttype: JSON_CONTENT_TYPE.to_owned(),
            traceparent: None,
            tracestate: None,
            data,
        }
    }

    /// Parses and validates a structured-mode event whose type must be `T::TYPE`.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, EnvelopeError> {
        // One pass on the happy path (the payload is most of the bytes); when it fails, the
        // envelope alone is read so the error names the real problem (wrong type or version)
        // rather than a payload field the wrong type happens to lack.
        match serde_json::from_slice::<Self>(bytes) {
            Ok(event) => {
                event.validate()?;
                check_type::<T>(&event.ty)?;
                Ok(event)
            }
            Err(payload_error) => {
                let head: CloudEvent<serde::de::IgnoredAny> = serde_json::from_slice(bytes)?;
                head.validate()?;
                check_type::<T>(&head.ty)?;
                Err(payload_error.into())
            }
        }
    }
}

/// The envelope's `type` must be `T::TYPE`.
fn check_type<T: EventType>(found: &str) -> Result<(), EnvelopeError> {
    if found == T::TYPE {
        Ok(())
    } else {
        Err(EnvelopeError::Type {
            found: found.to_owned(),
            expected: T::TYPE,
        })
    }
}

impl<T> CloudEvent<T> {
    /// Checks the attributes CloudEvents requires.
    pub fn validate(&self) -> Result<(), EnvelopeError> {
        if self.specversion != SPEC_VERSION {
            return Err(EnvelopeError::SpecVersion(self.specversion.clone()));
        }
        for (name, value) in [
            ("id", &self.id),
            ("source", &self.source),
            ("type", &self.ty),
        ] {
            if value.trim().is_empty() {
                return Err(EnvelopeError::Empty(name));
            }
        }
        Ok(())
    }
}

impl<T: Serialize> CloudEvent<T> {
    /// Serialises the envelope (structured mode).
    pub fn to_vec(&self) -> Result<Vec<u8>, serde_json::Error> {
        serde_json::to_vec(self)
    }
}

/// A stable event id derived from content: the same parts always give the same id, so a
/// producer that re-sends after a restart is deduplicated by JetStream.
pub fn stable_id(parts: &[&str]) -> String {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part.as_bytes());
        hasher.update([0u8]);
    }
    hex::encode(&hasher.finalize()[..16])
}

#[cfg(test)]
mod tests;
