//! Integration tests of the `pending` function: one binary (link time) with modules.

mod compliance;
mod messages;
mod property;
mod scenarios;
mod support;
