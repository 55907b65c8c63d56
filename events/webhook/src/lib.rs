//! The CI side of lastmile: the webhook receiver that turns CI deliveries into CI events.
//!
//! The receiver's main design choice is to **verify before parsing**: the raw body is
//! authenticated (HMAC-SHA256 or token, constant time) and size-limited before any JSON is
//! read, then de-duplicated by delivery id, and only then turned into a typed
//! [`lastmile_events::CiEvent`] and published through the [`lastmile_runtime::bus::Publisher`]
//! trait (NATS in production, anything in tests). The gate a pipeline step waits on is its
//! own crate, `lastmile-gate`: a consumer of diagnoses, not a source of events.

pub mod github;
pub mod gitlab;
pub mod payload;
pub mod reject;
pub mod replay;
pub mod server;
pub mod trace;
pub mod verify;

pub use reject::Reject;
pub use server::{WebhookConfig, router};
