//! What an init container waits for, read from its command line or its log output.
//!
//! Init containers that gate on a dependency are nearly always a shell loop around a
//! probe (`until nc -z db 5432`, `nslookup svc`, `wait-for-it host:port`, `pg_isready -h`,
//! `curl http://svc/health`) or a waiter image (`k8s-wait-for job <name>`,
//! `lastmile-wait tcp://db:5432 job:ns/migrate`); their logs say `waiting for <x>`. The names
//! they wait on are what a person must go and check.
//!
//! Read once here for every reader: the workload function (live pods stuck in init) and
//! `lastmile-lint` (manifests before they are deployed) must agree on what a command waits for.

use std::sync::LazyLock;

use regex::Regex;

/// One thing an init container waits for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dependency {
    /// Host, service or object name, as written (`postgres.shop.svc.cluster.local`, `db`).
    pub target: String,
    /// Port, when the probe names one.
    pub port: Option<u16>,
    /// How it is probed (`nc`, `nslookup`, `wait-for-it`, `pg_isready`, `mysqladmin`, `http`,
    /// `k8s-wait-for`, `lastmile-wait`, `log`).
    pub how: &'static str,
    /// The kind of API object waited for (`job`, `pod`, `service`) when the waiter reads the
    /// API (`k8s-wait-for job migrate`, `lastmile-wait job:shop/migrate`) instead of probing a
    /// DNS name; `target` is then the object's name, or `namespace/name` when written so.
    pub object: Option<&'static str>,
}

impl Dependency {
    /// The first DNS label: the Service name when `target` is a cluster DNS name.
    pub fn service(&self) -> &str {
        self.target.split('.').next().unwrap_or(&self.target)
    }

    /// The namespace part of `svc.ns[.svc.cluster.local]`, when written.
    pub fn namespace(&self) -> Option<&str> {
        let mut labels = self.target.split('.');
        labels.next()?;
        labels.next().filter(|ns| !ns.is_empty() && *ns != "svc")
    }
}

const HOST: &str = r"(?P<t>[A-Za-z0-9][-A-Za-z0-9_.]{0,252})";
const PORT: &str = r"(?P<p>\d{1,5})";

static PATTERNS: LazyLock<Vec<(&'static str, Regex)>> = LazyLock::new(|| {
    let specs: [(&'static str, String); 8] = [
        (
            "nc",
            format!(r"\bnc\s+(?:-[A-Za-z]+\s+(?:\d+\s+)?)*{HOST}\s+{PORT}"),
        ),
        (
            "nslookup",
            format!(r"\b(?:nslookup|getent\s+hosts|dig)\s+(?:-\S+\s+)*{HOST}"),
        ),
        (
            "wait-for-it",
            format!(r"\bwait-for(?:-it)?(?:\.sh)?\s+(?:-\S+\s+)*{HOST}:{PORT}"),
        ),
        (
            "pg_isready",
            format!(r"\bpg_isready\b[^\n;]*?\s-h\s*{HOST}(?:[^\n;]*?\s-p\s*{PORT})?"),
        ),
        (
            "mysqladmin",
            format!(r"\bmysqladmin\b[^\n;]*?\s-h\s*{HOST}(?:[^\n;]*?\s-P\s*{PORT})?"),
        ),
        (
            "http",
            format!(r"\b(?:curl|wget)\b[^\n;]*?https?://{HOST}(?::{PORT})?"),
        ),
        (
            "k8s-wait-for",
            format!(
                r"\b(?:k8s-wait-for|wait_for\.sh)\b[^\n;]*?\b(?P<o>pod|job|service|job-wr|pod-r)\s+(?:-l\s+)?{HOST}"
            ),
        ),
        ("log", format!(r"(?i)\bwaiting for\s+(?:the\s+)?{HOST}")),
    ];
    specs
        .into_iter()
        .map(|(how, re)| {
            let re = Regex::new(&re)
                .unwrap_or_else(|e| panic!("wait pattern `{how}` must compile: {e}"));
            (how, re)
        })
        .collect()
});

/// Words that follow "waiting for" in logs, or a command named in prose ("only runs nslookup
/// against the Service name"), but are not dependencies.
const NOT_TARGETS: &[&str] = &[
    "the",
    "a",
    "an",
    "against",
    "on",
    "for",
    "to",
    "of",
    "with",
    "and",
    "or",
    "in",
    "is",
    "that",
    "this",
    "until",
    "which",
    "it",
    "pod",
    "pods",
    "container",
    "containers",
    "init",
    "more",
    "completion",
    "job",
];

/// Every dependency mentioned in `text` (a joined command line or log), first seen first.
pub fn waited_on(text: &str) -> Vec<Dependency> {
    let mut found: Vec<Dependency> = Vec::new();
    for (how, re) in PATTERNS.iter() {
        for caps in re.captures_iter(text) {
            let Some(target) = caps
                .name("t")
                .map(|m| m.as_str().trim_end_matches(['.', ':', ',', '\'', '"']))
            else {
                continue;
            };
            if target.is_empty()
                || NOT_TARGETS.contains(&target.to_lowercase().as_str())
                || target.starts_with('-')
            {
                continue;
            }
            let port = caps.name("p").and_then(|m| m.as_str().parse().ok());
            let object = caps.name("o").map(|m| match m.as_str() {
                "pod" | "pod-r" => "pod",
                "service" => "service",
                _ => "job",
            });
            // `waiting for postgres` in the log of `nc -z postgres.shop.svc 5432` is the same wait.
            let service = target.split('.').next().unwrap_or(target);
            let same_service = *how == "log" && found.iter().any(|d| d.service() == service);
            if !same_service && !found.iter().any(|d| d.target == target) {
                found.push(Dependency {
                    target: target.to_owned(),
                    port,
                    how,
                    object,
                });
            }
        }
    }
    for dep in lastmile_wait_targets(text) {
        if !found.iter().any(|d| d.target == dep.target) {
            found.push(dep);
        }
    }
    found
}

/// The targets of every `lastmile-wait` invocation in `text`: `tcp://host:port`,
/// `http[s]://host[:port]/path`, `dns:host`, `job:[namespace/]name` (flags skipped).
fn lastmile_wait_targets(text: &str) -> Vec<Dependency> {
    let mut found = Vec::new();
    for (_, after) in text
        .match_indices("lastmile-wait")
        .map(|(i, m)| text.split_at(i + m.len()))
    {
        let invocation = after
            .split(['\n', ';', '|', '&'])
            .next()
            .unwrap_or_default();
        for arg in invocation.split_whitespace() {
            let arg = arg.trim_matches(['\'', '"']);
            let (target, port, object) = if let Some(rest) = arg.strip_prefix("tcp://") {
                match rest.rsplit_once(':') {
                    Some((host, port)) => (host, port.parse().ok(), None),
                    None => (rest, None, None),
                }
            } else if let Some(rest) = arg
                .strip_prefix("http://")
                .or_else(|| arg.strip_prefix("https://"))
            {
                let authority = rest.split('/').next().unwrap_or_default();
                match authority.rsplit_once(':') {
                    Some((host, port)) => (host, port.parse().ok(), None),
                    None => (authority, None, None),
                }
            } else if let Some(host) = arg.strip_prefix("dns:") {
                (host, None, None)
            } else if let Some(job) = arg.strip_prefix("job:") {
                (job, None, Some("job"))
            } else {
                continue;
            };
            if !target.is_empty() {
                found.push(Dependency {
                    target: target.to_owned(),
                    port,
                    how: "lastmile-wait",
                    object,
                });
            }
        }
    }
    found
}

/// What a log prints just before a target that answered: dockerize's `Received 200 from
/// http://`, a client's `Connected to `.
static ANSWERED_BEFORE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?:\breceived [1-3]\d\d from|\bconnected to) \S*$")
        .unwrap_or_else(|e| panic!("the answered pattern must compile: {e}"))
});
/// What a log prints just after a target that answered: wait-for-it's `:5432 is available
/// after 3 seconds`, `is up`, `is ready`.
static ANSWERED_AFTER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^(?::\d+)?\S*? is (?:now )?(?:available|up|ready|reachable)\b")
        .unwrap_or_else(|e| panic!("the answered pattern must compile: {e}"))
});

/// True when the log in `text` says `target` answered: dockerize's `Received 200 from
/// http://target:9200`, wait-for-it's `target:5432 is available after 3 seconds`,
/// `Connected to target`, `target is up`. A wait that ended is no longer what holds the pod:
/// what the program did next is.
pub fn answered(text: &str, target: &str) -> bool {
    let word = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
    text.lines().any(|line| {
        line.match_indices(target).any(|(at, _)| {
            let (before, after) = (&line[..at], &line[at + target.len()..]);
            !word(before.chars().next_back())
                && !word(after.chars().next())
                && (ANSWERED_BEFORE.is_match(before) || ANSWERED_AFTER.is_match(after))
        })
    })
}

/// `nslookup: can't resolve 'x'` and friends: the name did not resolve.
pub fn unresolved(text: &str) -> Option<String> {
    let caps = UNRESOLVED.captures(text)?;
    Some(
        caps.get(1)?
            .as_str()
            .trim_end_matches(['.', ':'])
            .to_owned(),
    )
}

/// Matches resolver failures and captures the name that did not resolve.
static UNRESOLVED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i)(?:can't resolve|can not resolve|could not resolve(?: host)?:?|NXDOMAIN|server can't find|Name or service not known[^'"]*)\s*'?"?([A-Za-z0-9][-A-Za-z0-9_.]*)"#).expect("unresolved-name regex")
});

#[cfg(test)]
mod tests;
