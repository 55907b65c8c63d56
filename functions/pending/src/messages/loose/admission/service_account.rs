//! A ServiceAccount the pods name that does not exist (yet), told in words beside a
//! controller that creates no pods: the API server's ServiceAccount admission rejects each
//! pod (`error looking up service account …: serviceaccount "x" not found`), so a Job,
//! ReplicaSet or StatefulSet shows no pods at all until the account is created, which an
//! installer that waits for the workload first (a Helm hook) never does.

use std::sync::LazyLock;

use lastmile_events::Class;
use regex::Regex;

use super::{CREATES_NO_PODS, PODS_NOT_CREATED};
use crate::messages::rules::Input;
use crate::messages::{Fact, Finding, quote_at};

/// A ServiceAccount said to be missing, or to be created only after the workload
/// (lower-cased, flattened text): "the service account doesn't exist", "serviceaccount not
/// found", "a missing service account", "applying the service account after the job lets
/// it run", "the ServiceAccount is created later by the chart".
static SERVICE_ACCOUNT_MISSING: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\bservice ?accounts?\b[^.\n]{0,40}?\b(?:doesn't exist|does not exist|did not exist|didn't exist|not found|is missing|was missing|missing|wasn't created|was not created|isn't created|is not created|hasn't been created|has not been created|not (?:yet )?created|created (?:only )?(?:after|later)|not there)\b|\b(?:missing|nonexistent|non-existent|non-existing|absent|deleted) service ?accounts?\b|\b(?:appl(?:y|ies|ying|ied)|creat(?:e|es|ing|ed)|submit(?:s|ting|ted)?|add(?:s|ing|ed)?|deploy(?:s|ing|ed)?)\b (?:the |a |its |their |that )?service ?accounts?\b[^.\n]{0,60}?\b(?:after|later|allows?|lets?|fix(?:es|ed)?|before)\b")
        .expect("the loose patterns are valid regexes")
});

/// A controller shown or told to have created no pods: the Job's `Pods Statuses: 0 Running
/// / 0 Succeeded / 0 Failed`, besides [`CREATES_NO_PODS`] and [`PODS_NOT_CREATED`].
static NO_PODS_AT_ALL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\bpods statuses:\s*0 (?:active|running) / 0 succeeded / 0 failed\b|\bno pods? (?:is |are |was |were |get |gets |got )?(?:ever )?(?:created|spawned|started)\b")
        .expect("the loose patterns are valid regexes")
});

/// A ServiceAccount told missing (or created after the workload) beside a controller that
/// creates no pods, with no admission error quoted. Returns whether it found one.
pub(super) fn missing_service_account(t: &Input<'_>, out: &mut Vec<Finding>) -> bool {
    if t.lower.contains("error looking up service account") {
        return false;
    }
    let Some(m) = SERVICE_ACCOUNT_MISSING.find(t.lower) else {
        return false;
    };
    let no_pods = NO_PODS_AT_ALL.is_match(t.lower)
        || CREATES_NO_PODS.is_match(t.lower)
        || PODS_NOT_CREATED.is_match(t.lower);
    if !no_pods {
        return false;
    }
    out.push(Finding::new(
        Class::PolicyDenied,
        0.5,
        "the pods name a ServiceAccount that does not exist (yet): the API server's ServiceAccount admission rejects every pod (`error looking up service account`), so the controller creates none; create the account before the workload (with a Helm hook, give the account a lower hook weight than the hooked Job)",
        &quote_at(t.flat, m.start()),
        true,
        Fact::None,
    ));
    true
}

/// Forces every pattern of this module.
#[cfg(test)]
pub(super) fn compile_all() {
    LazyLock::force(&SERVICE_ACCOUNT_MISSING);
    LazyLock::force(&NO_PODS_AT_ALL);
}

#[cfg(test)]
mod tests;
