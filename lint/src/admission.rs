//! The admission decision: an `AdmissionReview` (`admission.k8s.io/v1`) request in, its
//! response out, applying the per-object rules ([`crate::check_object`]).
//!
//! Pure, so the HTTPS server in `lastmile admission` only moves bytes. In `warn` mode every
//! finding becomes an admission warning (kubectl prints them; the object is admitted); in
//! `deny` mode error findings refuse the object (403 with every reason) and warnings still
//! travel as warnings. Pods owned by a controller are admitted silently: their template was
//! already checked when the Deployment, StatefulSet, Job… was admitted. The wait-for graph
//! needs the other objects and is `lastmile lint`'s job.

use serde_json::{Value, json};

use crate::{Config, Manifest, Severity, check_object};

/// Longest warning sent: the API server truncates longer ones.
pub const MAX_WARNING_CHARS: usize = 256;
/// Most warnings sent for one object (the API server bounds their total size); the rest are
/// counted in a last warning.
pub const MAX_WARNINGS: usize = 10;

/// What the webhook does with findings in a namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Admit, with every finding as a warning.
    Warn,
    /// Refuse on error findings; warnings stay warnings.
    Deny,
}

/// Why a body is not an AdmissionReview request (answered with HTTP 400).
#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    /// Missing `request.uid`, or not `admission.k8s.io/v1`.
    #[error("not an admission.k8s.io/v1 AdmissionReview request: {0}")]
    NotAReview(&'static str),
}

/// The namespace the request is about (empty for cluster-scoped objects).
pub fn namespace_of(review: &Value) -> &str {
    review["request"]["namespace"].as_str().unwrap_or_default()
}

/// The AdmissionReview response to `review`, deciding with `mode`.
pub fn review(review: &Value, mode: Mode, config: &Config) -> Result<Value, ReviewError> {
    if review["apiVersion"].as_str() != Some("admission.k8s.io/v1")
        || review["kind"].as_str() != Some("AdmissionReview")
    {
        return Err(ReviewError::NotAReview("apiVersion/kind"));
    }
    let request = &review["request"];
    let uid = request["uid"]
        .as_str()
        .ok_or(ReviewError::NotAReview("no request.uid"))?;
    let object = &request["object"];
    let owned_pod = object["kind"].as_str() == Some("Pod")
        && object["metadata"]["ownerReferences"]
            .as_array()
            .is_some_and(|o| o.iter().any(|r| r["controller"].as_bool() == Some(true)));
    if !object.is_object() || owned_pod {
        return Ok(response(uid, true, Vec::new(), None));
    }
    let namespace = namespace_of(review);
    let config = Config {
        default_namespace: if namespace.is_empty() {
            config.default_namespace.clone()
        } else {
            namespace.to_owned()
        },
        ..config.clone()
    };
    // The API server sends the object as JSON; a `generateName` object has no name yet.
    let mut object = object.clone();
    if object["metadata"]["name"]
        .as_str()
        .is_none_or(str::is_empty)
    {
        let generate = object["metadata"]["generateName"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        object["metadata"]["name"] = json!(generate);
    }
    let manifest = Manifest::detached("admission", object);
    let findings = check_object(&manifest, &config);
    let mut warnings: Vec<String> = findings
        .iter()
        .take(MAX_WARNINGS)
        .map(|f| short(&format!("{}: {}", f.rule, f.message)))
        .collect();
    if findings.len() > MAX_WARNINGS {
        warnings.push(format!(
            "lastmile admission: {} more finding(s); run `lastmile lint` on the manifest",
            findings.len() - MAX_WARNINGS
        ));
    }
    let errors: Vec<String> = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .map(|f| format!("{}: {}", f.rule, f.message))
        .collect();
    if mode == Mode::Deny && !errors.is_empty() {
        let message = format!("lastmile admission: {}", errors.join("; "));
        return Ok(response(uid, false, warnings, Some(message)));
    }
    Ok(response(uid, true, warnings, None))
}

/// A response admitting despite a failure of the check itself (its deadline passed): the
/// webhook fails open, and says so.
pub fn admit_unchecked(uid: &str, why: &str) -> Value {
    response(
        uid,
        true,
        vec![short(&format!("lastmile admission: not checked: {why}"))],
        None,
    )
}

fn response(uid: &str, allowed: bool, warnings: Vec<String>, denied: Option<String>) -> Value {
    let mut r = json!({"uid": uid, "allowed": allowed});
    if !warnings.is_empty() {
        r["warnings"] = json!(warnings);
    }
    if let Some(message) = denied {
        r["status"] = json!({"code": 403, "reason": "Forbidden", "message": message});
    }
    json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "response": r})
}

fn short(s: &str) -> String {
    if s.chars().count() <= MAX_WARNING_CHARS {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(MAX_WARNING_CHARS - 1).collect();
    out.push('…');
    out
}
