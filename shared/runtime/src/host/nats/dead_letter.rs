//! Dead-lettering: the copy of a failed message on `lastmile.dlq.<function>`, and the
//! publish-then-term step that files it.

use std::collections::BTreeMap;

use bytes::Bytes;
use lastmile_events::envelope::stable_id;
use lastmile_events::subjects;
use sha2::{Digest, Sha256};

use super::{HostOptions, Settled, settled};
use crate::bus::{
    DLQ_REASON_HEADER, DLQ_SUBJECT_HEADER, MSG_ID_HEADER, Message, Publisher, Settle,
};
use crate::redact;

/// Header carrying how many deliveries a dead-lettered message had.
pub const DLQ_ATTEMPTS_HEADER: &str = "Lastmile-Dlq-Attempts";
/// Longest `Lastmile-Dlq-Reason` value, bytes (the full error is in the host's log).
pub(super) const MAX_REASON_BYTES: usize = 1024;

pub(super) async fn dead_letter(
    dlq: &dyn Publisher,
    opts: &HostOptions,
    function: &str,
    message: &Message,
    attempt: u64,
    reason: &str,
    settle: Box<dyn Settle>,
) -> Settled {
    let letter = dead_letter_message(function, message, attempt, reason);
    tracing::error!(
        reason = letter.header(DLQ_REASON_HEADER).unwrap_or_default(),
        attempt,
        subject = %message.subject,
        dlq = %letter.subject,
        "Dead-lettering the message."
    );
    match dlq.publish(letter).await {
        Ok(()) => settled(settle.term().await, Settled::DeadLettered),
        Err(e) => {
            let delay = opts.retry_delay(attempt);
            tracing::error!(error = %e, ?delay, "Dead-letter publish failed; retrying the message later.");
            settled(settle.nak(delay).await, Settled::Retried(delay))
        }
    }
}

/// The copy of `message` published on `lastmile.dlq.<function>`. The reason is redacted
/// (errors may quote a URL with credentials or a header); the payload is kept as it was, so
/// the message can be replayed once fixed.
pub fn dead_letter_message(
    function: &str,
    message: &Message,
    attempt: u64,
    reason: &str,
) -> Message {
    // Server-interpreted headers (Nats-Msg-Id, Nats-Expected-*) must not be replayed.
    let mut headers: BTreeMap<String, String> = message
        .headers
        .iter()
        .filter(|(k, _)| !k.to_ascii_lowercase().starts_with("nats-"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let original = match message.header(MSG_ID_HEADER) {
        Some(id) => id.to_owned(),
        None => hex::encode(Sha256::digest(&message.payload)),
    };
    let id = stable_id(&["dlq", function, &message.subject, &original]);
    headers.insert(MSG_ID_HEADER.to_owned(), id);
    headers.insert(
        DLQ_REASON_HEADER.to_owned(),
        header_value(&redact::text(reason)),
    );
    headers.insert(DLQ_SUBJECT_HEADER.to_owned(), message.subject.clone());
    headers.insert(DLQ_ATTEMPTS_HEADER.to_owned(), attempt.to_string());
    Message {
        subject: subjects::dlq(function),
        headers,
        payload: Bytes::clone(&message.payload),
    }
}

/// One line of at most [`MAX_REASON_BYTES`] bytes: header values cannot hold CR or LF.
pub(super) fn header_value(text: &str) -> String {
    let mut line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if lastmile_redact::truncate_at_char_boundary(&mut line, MAX_REASON_BYTES) {
        line.push('…');
    }
    line
}
