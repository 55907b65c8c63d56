//! Guesses an incident family from free text. Only a routing hint: `lastmile explain`
//! runs every function regardless, so a wrong guess costs nothing there.

use lastmile_events::IncidentFamily;
use lastmile_events::facts::IMAGE_PULL_REASONS;

/// Weight of a kubelet image-pull waiting reason ([`IMAGE_PULL_REASONS`]) found in text.
const PULL_REASON_WEIGHT: u32 = 4;

/// Keywords per family (lower case) and their weight. Kubernetes reasons weigh more than
/// words that also appear in prose.
const KEYWORDS: &[(IncidentFamily, &str, u32)] = &[
    (IncidentFamily::Build, "go.sum", 3),
    (IncidentFamily::Build, "go.mod", 3),
    (IncidentFamily::Build, "checksum mismatch", 3),
    (IncidentFamily::Build, "security error", 2),
    (IncidentFamily::Build, "go: ", 1),
    (IncidentFamily::Build, "go mod ", 2),
    (IncidentFamily::Build, "go build", 2),
    (IncidentFamily::Build, "dockerignore", 3),
    (IncidentFamily::Build, "copy . .", 2),
    (IncidentFamily::Build, "reproducib", 2),
    (IncidentFamily::ImagePull, "failed to pull image", 4),
    (IncidentFamily::ImagePull, "pulling image", 2),
    (IncidentFamily::ImagePull, "pull access denied", 3),
    (IncidentFamily::ImagePull, "manifest unknown", 3),
    (IncidentFamily::ImagePull, "toomanyrequests", 3),
    (IncidentFamily::ImagePull, "rate limit", 1),
    (IncidentFamily::ImagePull, "x509", 2),
    (IncidentFamily::ImagePull, "exec format error", 3),
    (IncidentFamily::ImagePull, "no matching manifest", 3),
    (
        IncidentFamily::ImagePull,
        "http response to https client",
        3,
    ),
    (IncidentFamily::ImagePull, "registry", 1),
    (IncidentFamily::Init, "init:", 3),
    (IncidentFamily::Init, "init containers", 2),
    (IncidentFamily::Init, "initcontainer", 2),
    (IncidentFamily::Init, "podinitializing", 2),
    (IncidentFamily::Init, "waiting for", 1),
    (IncidentFamily::Init, "nslookup", 1),
    (IncidentFamily::Init, "containersnotinitialized", 3),
    (IncidentFamily::Job, "deadlineexceeded", 4),
    (IncidentFamily::Job, "backofflimitexceeded", 4),
    (IncidentFamily::Job, "backofflimit", 2),
    (IncidentFamily::Job, "backoff limit", 3),
    (IncidentFamily::Job, "activedeadlineseconds", 3),
    (IncidentFamily::Job, "job was active longer", 4),
    (IncidentFamily::Job, "podfailurepolicy", 3),
    (IncidentFamily::Job, "job failed", 2),
    (IncidentFamily::Job, "hook job", 1),
    (IncidentFamily::Pending, "failedscheduling", 4),
    (IncidentFamily::Pending, "nodes are available", 4),
    (IncidentFamily::Pending, "exceeded quota", 4),
    (IncidentFamily::Pending, "failed quota", 4),
    (IncidentFamily::Pending, "must specify", 2),
    (IncidentFamily::Pending, "failedcreate", 3),
    (IncidentFamily::Pending, "insufficient", 2),
    (IncidentFamily::Pending, "taint", 2),
    (IncidentFamily::Pending, "unschedulable", 2),
    (IncidentFamily::Pending, "persistentvolumeclaim", 2),
    (IncidentFamily::Pending, "usage per container", 3),
    (IncidentFamily::Pending, "usage per pod", 3),
    (IncidentFamily::Pending, "node affinity", 2),
    (IncidentFamily::Pending, "pod didn't trigger scale-up", 3),
    (IncidentFamily::Pending, "pending", 1),
    (IncidentFamily::Runtime, "crashloopbackoff", 3),
    (
        IncidentFamily::Runtime,
        "back-off restarting failed container",
        2,
    ),
    (IncidentFamily::Runtime, "createcontainerconfigerror", 4),
    (IncidentFamily::Runtime, "createcontainererror", 4),
    (IncidentFamily::Runtime, "runcontainererror", 4),
    (IncidentFamily::Runtime, "couldn't find key", 4),
    (IncidentFamily::Runtime, "oomkilled", 4),
    (IncidentFamily::Runtime, "exit code:    137", 2),
    (IncidentFamily::Runtime, "out of memory", 2),
    (IncidentFamily::Runtime, "failedmount", 4),
    (IncidentFamily::Runtime, "mountvolume", 3),
    (IncidentFamily::Runtime, "multi-attach", 4),
    (IncidentFamily::Runtime, "failedattachvolume", 4),
    (IncidentFamily::Runtime, "unable to attach or mount", 3),
    (IncidentFamily::Runtime, "registered csi drivers", 3),
    (IncidentFamily::Runtime, "probe failed", 4),
    (IncidentFamily::Runtime, "liveness probe", 2),
    (IncidentFamily::Runtime, "readiness probe", 2),
    (IncidentFamily::Runtime, "starting container process", 3),
    (
        IncidentFamily::Runtime,
        "unable to start container process",
        3,
    ),
    (IncidentFamily::Runtime, "executable file not found", 3),
    (IncidentFamily::Runtime, "oci runtime", 2),
    (IncidentFamily::Runtime, "permission denied", 1),
    (IncidentFamily::Runtime, "panic:", 2),
];

/// A crash loop told in prose ("crash-loops", "crashlooping", "a crash loop"), weighed like
/// the kubelet's `CrashLoopBackOff` for the main container unless the text is about an init
/// container, whose crash loop is the init family's.
const CRASH_LOOP_WORDS: [&str; 3] = ["crash-loop", "crash loop", "crashlooping"];
/// Weight of [`CRASH_LOOP_WORDS`] (any of them, once).
const CRASH_LOOP_WEIGHT: u32 = 3;

/// The family whose keywords weigh most in `text`; `Pending` when nothing matches (the
/// most common way a deploy gets stuck).
pub fn guess_family(text: &str) -> IncidentFamily {
    let lower = text.to_lowercase();
    let mut best = (IncidentFamily::Pending, 0u32);
    for family in IncidentFamily::ALL {
        let mut score: u32 = KEYWORDS
            .iter()
            .filter(|(f, word, _)| *f == family && lower.contains(word))
            .map(|(_, _, weight)| weight)
            .sum();
        // Main containers that wait for init (`PodInitializing`, `Init:…`) have not run, so
        // whatever failed is an init container's.
        if family == IncidentFamily::Runtime
            && (lower.contains("podinitializing") || init_status(&lower))
        {
            continue;
        }
        if family == IncidentFamily::Runtime
            && CRASH_LOOP_WORDS.iter().any(|w| lower.contains(w))
            && !lower.contains("init container")
            && !lower.contains("initcontainer")
        {
            score += CRASH_LOOP_WEIGHT;
        }
        // The same crash loop told about an init container is the init family's.
        if family == IncidentFamily::Init
            && CRASH_LOOP_WORDS.iter().any(|w| lower.contains(w))
            && (lower.contains("init container") || lower.contains("initcontainer"))
        {
            score += CRASH_LOOP_WEIGHT;
        }
        if family == IncidentFamily::ImagePull {
            score += IMAGE_PULL_REASONS
                .iter()
                .filter(|r| lower.contains(&r.to_ascii_lowercase()))
                .map(|_| PULL_REASON_WEIGHT)
                .sum::<u32>();
        }
        if score > best.1 {
            best = (family, score);
        }
    }
    best.0
}

/// True when `lower` shows a pod status of the init phase (`Init:0/1`,
/// `Init:CrashLoopBackOff`), not the runtime's own wording (`error during container init:
/// exec …`).
fn init_status(lower: &str) -> bool {
    lower
        .match_indices("init:")
        .any(|(i, m)| lower[i + m.len()..].starts_with(|c: char| c.is_ascii_alphanumeric()))
}

#[cfg(test)]
mod tests;
