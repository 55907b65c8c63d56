//! `scheduling.host_ports` found at container start: the pod was placed, but the node could
//! not publish its host port. The scheduler counts only the host ports of pods, so a port
//! held by something else on the node (a process of the node itself, a container started
//! outside Kubernetes, a leftover proxy) lets the pod land there and fail as its sandbox
//! starts. Docker's port publishing names the conflict (`driver failed programming external
//! connectivity`, `Error starting userland proxy: … address already in use`, `Bind for
//! 0.0.0.0:80 failed: port is already allocated`); an app's own `address already in use`
//! without them is its crash (the crash-loop rule's "port already in use").

use std::sync::LazyLock;

use lastmile_events::Class;
use regex::Regex;

use crate::facts::Facts;
use crate::remedy;
use crate::{Found, quote, re};

/// Docker (or a CNI portmap plugin) failing to publish a host port.
static PUBLISH_CONFLICT: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)driver failed programming external connectivity|userland proxy\b[^\n]{0,120}?\b(?:address already in use|bind)|\bport is already allocated\b|\bhost[- ]?port\b[^\n]{0,120}?\b(?:address already in use|already allocated)",
    )
});
/// `0.0.0.0:9090` / `:::80` / `host port 80`: the port, for the summary.
static PORT: LazyLock<Regex> = LazyLock::new(|| {
    re(r"(?:0\.0\.0\.0|\[?::\]?|127\.0\.0\.1):(\d{1,5})\b|host[- ]?port\s+(\d{1,5})")
});

/// The finding when a line shows a host port that could not be published.
pub(crate) fn diagnose(f: &Facts) -> Option<Found> {
    let line = f
        .waiting
        .iter()
        .map(|(_, m)| m.as_str())
        .chain(f.lines.iter().map(String::as_str))
        .find(|l| PUBLISH_CONFLICT.is_match(l))?;
    let port = PORT
        .captures(line)
        .and_then(|c| c.get(1).or_else(|| c.get(2)))
        .map(|m| m.as_str().to_owned());
    let which = port
        .as_deref()
        .map_or("its host port".to_owned(), |p| format!("host port {p}"));
    let check = port.as_deref().map_or_else(
        || "ss -ltnp".to_owned(),
        |p| format!("ss -ltnp 'sport = :{p}'"),
    );
    Some(Found::of(
        Class::HOST_PORTS,
        0.8,
        format!(
            "The pod was placed on a node where {which} is already taken by something the scheduler does not count (a process of the node, a container run outside Kubernetes), so its sandbox cannot publish the port and the pod never starts."
        ),
        vec![
            remedy::step(
                "On the node, find what holds the port, and stop it or move it to another port.",
                check,
            ),
            remedy::advice(
                "Or change the pod's hostPort (or drop it and expose the pod through a Service).",
            ),
        ],
        f.container.as_deref(),
        vec![format!("the runtime said: {}", quote(line))],
    ))
}

#[cfg(test)]
mod tests;
