//! What CI built, attested: an in-toto Statement v1 with a SLSA Provenance v1 predicate
//! ([`statement`]) naming each Go binary by its SHA-256 (and the image by its digest), with
//! each binary's build information, the `go.sum` digest and the Go environment that
//! matters; signed as a DSSE envelope with a cosign-compatible key ([`dsse`]); and the
//! deploy-side check that the binary about to run is the one attested ([`check`]).

pub mod check;
pub mod ci_env;
pub mod dsse;
pub mod statement;

pub use check::{Mismatch, check};
pub use statement::{CollectInput, Statement};
