//! Function errors, each saying whether a retry can help.

/// How a host should treat a failed invocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Transient (a registry timed out, a store was down): retry with backoff.
    Retryable,
    /// Retrying cannot help, but the input was fine (a bug, a missing configuration).
    Permanent,
    /// The input cannot be processed: dead-letter it with the reason.
    BadInput,
}

/// A function failed to produce an outcome.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct FunctionError {
    kind: ErrorKind,
    message: String,
}

impl FunctionError {
    /// A transient failure.
    pub fn retryable(message: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::Retryable,
            message: message.into(),
        }
    }

    /// A failure retrying cannot fix.
    pub fn permanent(message: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::Permanent,
            message: message.into(),
        }
    }

    /// Input that cannot be processed.
    pub fn bad_input(message: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::BadInput,
            message: message.into(),
        }
    }

    /// The kind, for hosts to map onto nak / term / Lambda error types.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }
}
