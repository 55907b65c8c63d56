//! Integration tests of the `pending` function: one binary (link time) with modules.

#![allow(clippy::unwrap_used)]

mod compliance;
mod messages;
mod property;
mod provenance;
mod scenarios;
mod support;
