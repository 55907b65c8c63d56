//! [`Detail`]: the text of a runtime error together with the error underneath it.
//!
//! Bus and telemetry errors are split by what a caller does about them (retry, fix the
//! configuration, give up), not by which client failed; [`Detail`] carries the sentence a
//! user reads and keeps the client's own error (async-nats, tracing-subscriber, io) as its
//! [`std::error::Error::source`], so the chain can be walked or downcast instead of being
//! flattened into a string.

use std::error::Error;
use std::fmt;

/// A boxed underlying error.
type BoxError = Box<dyn Error + Send + Sync + 'static>;

/// What went wrong, in words, and (when another error caused it) that error as the source.
///
/// The text already quotes the source when the source is the reason a user needs to read
/// (as `lastmile`'s one-line error output skips a cause whose text the line already holds).
#[derive(Debug)]
pub struct Detail {
    text: String,
    source: Option<BoxError>,
}

impl Detail {
    /// A detail with no underlying error (a timeout, a validation rule).
    pub fn new(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            source: None,
        }
    }

    /// A detail caused by `source`, kept for [`Error::source`].
    pub fn caused_by(text: impl Into<String>, source: impl Into<BoxError>) -> Self {
        Self {
            text: text.into(),
            source: Some(source.into()),
        }
    }

    /// The words, without the source.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl fmt::Display for Detail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Error for Detail {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.source.as_deref().map(|e| e as &(dyn Error + 'static))
    }
}

impl From<String> for Detail {
    fn from(text: String) -> Self {
        Self::new(text)
    }
}

impl From<&str> for Detail {
    fn from(text: &str) -> Self {
        Self::new(text)
    }
}

#[cfg(test)]
mod tests;
