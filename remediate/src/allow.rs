//! The allowlist: which changes the executor may make, per namespace.
//!
//! One grammar for flags and the config file: `NAMESPACE=CHANGE[,CHANGE...]`, where a change
//! is one of
//!
//! | change | what it permits |
//! |---|---|
//! | `job.ttl-seconds-after-finished` | setting a Job's `spec.ttlSecondsAfterFinished` (≥ 0) |
//! | `job.suspend` | setting a Job's `spec.suspend` |
//! | `job.active-deadline-seconds:MAX` | **raising** a Job's `spec.activeDeadlineSeconds`, to at most `MAX` seconds |
//!
//! A namespace not named permits nothing, and an empty allowlist (the default) turns the
//! executor into a reporter: every structured remediation is audited as refused.

use std::collections::BTreeMap;

/// One kind of change the executor knows how to check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Change {
    /// Set `spec.ttlSecondsAfterFinished` on a Job.
    JobTtl,
    /// Set `spec.suspend` on a Job.
    JobSuspend,
    /// Raise `spec.activeDeadlineSeconds` on a Job, up to `max` seconds.
    JobDeadline {
        /// The highest deadline the executor may set, seconds.
        max: i64,
    },
}

impl Change {
    /// The change's name in the allowlist grammar (without the bound).
    pub fn name(self) -> &'static str {
        match self {
            Self::JobTtl => "job.ttl-seconds-after-finished",
            Self::JobSuspend => "job.suspend",
            Self::JobDeadline { .. } => "job.active-deadline-seconds",
        }
    }

    /// The Job spec field the change sets.
    pub fn field(self) -> &'static str {
        match self {
            Self::JobTtl => "ttlSecondsAfterFinished",
            Self::JobSuspend => "suspend",
            Self::JobDeadline { .. } => "activeDeadlineSeconds",
        }
    }
}

/// An allowlist entry that does not parse.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AllowError {
    /// Not `NAMESPACE=CHANGE[,CHANGE...]`.
    #[error("allowlist entry {0:?} is not NAMESPACE=CHANGE[,CHANGE...]")]
    Shape(String),
    /// A change name the executor does not know.
    #[error(
        "unknown change {0:?} (known: job.ttl-seconds-after-finished, job.suspend, job.active-deadline-seconds:MAX)"
    )]
    Unknown(String),
    /// `job.active-deadline-seconds` without a positive bound.
    #[error(
        "job.active-deadline-seconds needs its bound, a positive number of seconds: job.active-deadline-seconds:MAX (got {0:?})"
    )]
    Bound(String),
}

/// Allowed changes per namespace.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Allowlist {
    namespaces: BTreeMap<String, Vec<Change>>,
}

impl Allowlist {
    /// Parses entries of the form `NAMESPACE=CHANGE[,CHANGE...]`; the same namespace may
    /// appear in several entries (their changes add up).
    pub fn parse<S: AsRef<str>>(entries: &[S]) -> Result<Self, AllowError> {
        let mut list = Self::default();
        for entry in entries {
            let entry = entry.as_ref().trim();
            if entry.is_empty() {
                continue;
            }
            let (ns, changes) = entry
                .split_once('=')
                .filter(|(ns, c)| !ns.trim().is_empty() && !c.trim().is_empty())
                .ok_or_else(|| AllowError::Shape(entry.to_owned()))?;
            for change in changes.split(',') {
                list.add(ns.trim(), parse_change(change.trim())?);
            }
        }
        Ok(list)
    }

    /// Adds `change` for `namespace`; a second deadline bound replaces the first.
    pub fn add(&mut self, namespace: &str, change: Change) {
        let changes = self.namespaces.entry(namespace.to_owned()).or_default();
        changes.retain(|c| c.name() != change.name());
        changes.push(change);
        changes.sort();
    }

    /// True when nothing at all is allowed (the executor only reports).
    pub fn is_empty(&self) -> bool {
        self.namespaces.values().all(Vec::is_empty)
    }

    /// The changes allowed in `namespace`.
    pub fn in_namespace(&self, namespace: &str) -> &[Change] {
        self.namespaces
            .get(namespace)
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    /// The allowed change that sets `field` of a Job in `namespace`.
    pub fn job_field(&self, namespace: &str, field: &str) -> Option<Change> {
        self.in_namespace(namespace)
            .iter()
            .copied()
            .find(|c| c.field() == field)
    }

    /// A one-line summary for the start-up log, e.g. `ci=[job.suspend]`.
    pub fn describe(&self) -> String {
        if self.is_empty() {
            return "nothing (report only)".to_owned();
        }
        self.namespaces
            .iter()
            .map(|(ns, changes)| {
                let names: Vec<String> = changes
                    .iter()
                    .map(|c| match c {
                        Change::JobDeadline { max } => format!("{}:{max}", c.name()),
                        c => c.name().to_owned(),
                    })
                    .collect();
                format!("{ns}=[{}]", names.join(","))
            })
            .collect::<Vec<_>>()
            .join(" ")
    }
}

fn parse_change(raw: &str) -> Result<Change, AllowError> {
    let (name, bound) = match raw.split_once(':') {
        Some((n, b)) => (n.trim(), Some(b.trim())),
        None => (raw, None),
    };
    match (name, bound) {
        ("job.ttl-seconds-after-finished", None) => Ok(Change::JobTtl),
        ("job.suspend", None) => Ok(Change::JobSuspend),
        ("job.active-deadline-seconds", Some(b)) => b
            .parse::<i64>()
            .ok()
            .filter(|m| *m > 0)
            .map(|max| Change::JobDeadline { max })
            .ok_or_else(|| AllowError::Bound(raw.to_owned())),
        ("job.active-deadline-seconds", None) => Err(AllowError::Bound(raw.to_owned())),
        _ => Err(AllowError::Unknown(raw.to_owned())),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
