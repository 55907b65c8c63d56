//! Publishing: wait for JetStream's acknowledgement; headers converted both ways.

use std::collections::BTreeMap;
use std::str::FromStr;

use async_nats::jetstream::{self, context::PublishErrorKind};
use async_nats::{HeaderMap, HeaderName, HeaderValue};
use async_trait::async_trait;

use super::NatsBus;
use crate::bus::{BusError, MSG_ID_HEADER, Message, Publisher};
use crate::error::Detail;

#[async_trait]
impl Publisher for NatsBus {
    /// Publishes and waits for the stream's acknowledgement. A publish that got none (the
    /// stream's leader died or is being elected, the connection dropped) is sent again, same
    /// bytes and same `Nats-Msg-Id`, within the retry budget: if the first copy was stored,
    /// the stream drops the second as a duplicate. A message without a `Nats-Msg-Id` is
    /// sent once: a second copy could not be told apart.
    async fn publish(&self, message: Message) -> Result<(), BusError> {
        let headers = to_header_map(&message.headers)?;
        let what = format!("publishing on {}", message.subject);
        if message.header(MSG_ID_HEADER).is_none() {
            return self.publish_once(&what, &message, headers).await;
        }
        self.retrying(&what, || {
            self.publish_once(&what, &message, headers.clone())
        })
        .await
    }
}

impl NatsBus {
    async fn publish_once(
        &self,
        what: &str,
        message: &Message,
        headers: HeaderMap,
    ) -> Result<(), BusError> {
        let publish = jetstream::message::PublishMessage::build()
            .payload(message.payload.clone())
            .headers(headers);
        let ack = self
            .bounded(what, self.js.send_publish(message.subject.clone(), publish))
            .await?;
        let ack = self
            .bounded(what, ack.map_err(|e| publish_error(&message.subject, e))?)
            .await?;
        let ack = ack.map_err(|e| publish_error(&message.subject, e))?;
        if ack.duplicate {
            tracing::debug!(subject = %message.subject, stream = %ack.stream, "Duplicate dropped by JetStream.");
        }
        Ok(())
    }
}

fn publish_error(subject: &str, e: jetstream::context::PublishError) -> BusError {
    let detail = format!("publishing on {subject}: {e}");
    match e.kind() {
        // "No stream" is also what a server whose JetStream is still starting answers.
        PublishErrorKind::StreamNotFound
        | PublishErrorKind::TimedOut
        | PublishErrorKind::BrokenPipe
        | PublishErrorKind::MaxAckPending
        | PublishErrorKind::Other => BusError::Unavailable(Detail::caused_by(detail, e)),
        PublishErrorKind::WrongLastMessageId
        | PublishErrorKind::WrongLastSequence
        | PublishErrorKind::MaxPayloadExceeded => BusError::Rejected(Detail::caused_by(detail, e)),
    }
}

pub(super) fn to_header_map(headers: &BTreeMap<String, String>) -> Result<HeaderMap, BusError> {
    let mut map = HeaderMap::new();
    for (name, value) in headers {
        let n = HeaderName::from_str(name)
            .map_err(|_| BusError::Rejected(format!("invalid header name {name:?}").into()))?;
        let v = HeaderValue::from_str(value).map_err(|_| {
            BusError::Rejected(
                format!("invalid value for header {name} (no CR or LF allowed)").into(),
            )
        })?;
        map.insert(n, v);
    }
    Ok(map)
}

pub(super) fn from_header_map(headers: Option<&HeaderMap>) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (name, values) in headers.into_iter().flat_map(HeaderMap::iter) {
        if let Some(last) = values.last() {
            out.insert(name.to_string(), last.as_str().to_owned());
        }
    }
    out
}
