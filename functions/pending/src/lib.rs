//! Pending pods.
