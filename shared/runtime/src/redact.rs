//! Secret redaction: the runtime's name for [`lastmile_redact`], the one policy every byte
//! passes before it leaves the process (evidence, bus, logs, spans, error messages).
//!
//! The rules live in their own dependency-free crate so that functions, the CLI and the gate
//! use the same ones; this module keeps the runtime's callers (`redact::text`,
//! `redact::bytes`, …) working.

pub use lastmile_redact::{
    REDACTED, bytes, credential_with_scheme, escape_control, is_json_media_type, is_sensitive_key,
    json, named_value, text, text_in_place, truncate_at_char_boundary,
};
