//! One replica per Ready node, and the next one Pending: a `kubectl get nodes` table whose
//! nodes are all Ready and schedulable, beside a `kubectl get pods` table where one owner
//! (ReplicaSet, StatefulSet) runs at least as many replicas as there are nodes and the rest
//! wait. Capacity would leave some node without a replica; a required one-per-node pod
//! anti-affinity (the usual chart default for DNS, ingress, quorum stores) does exactly
//! this, as would a hostPort (which the host-port rules read when it is named).

use lastmile_events::Class;

use super::lost_node::POD_ROW;
use crate::messages::rules::Input;
use crate::messages::{Fact, Finding};

/// The status column of a `kubectl get nodes` row (the word after the name), for the rows
/// that have one.
fn node_statuses(text: &str) -> impl Iterator<Item = &str> {
    text.lines().filter_map(|l| {
        let mut words = l.split_whitespace();
        let status = words.nth(1)?;
        let is_node_row = matches!(
            status.split(',').next(),
            Some("Ready" | "NotReady" | "Unknown")
        ) && words
            .any(|w| w.starts_with('v') && w[1..].starts_with(|c: char| c.is_ascii_digit()));
        is_node_row.then_some(status)
    })
}

/// An owner whose Running replicas fill every Ready node (one each) while another of its
/// replicas is Pending, with every listed node Ready and schedulable and no scheduler
/// message quoted.
pub(in crate::messages) fn replicas_beyond_nodes(t: &Input<'_>, out: &mut Vec<Finding>) {
    if !t.anchors.is_empty() {
        return;
    }
    let statuses: Vec<&str> = node_statuses(t.text).take(200).collect();
    if statuses.is_empty() || statuses.iter().any(|s| *s != "Ready") {
        return;
    }
    let nodes = statuses.len();
    let rows: Vec<(&str, &str, usize)> = POD_ROW
        .captures_iter(t.text)
        .take(500)
        .filter_map(|c| Some((c.get(1)?.as_str(), c.get(3)?.as_str(), c.get(0)?.start())))
        .collect();
    let Some(&(owner, _, at)) = rows.iter().find(|(owner, status, _)| {
        *status == "Pending"
            && rows
                .iter()
                .filter(|(o, s, _)| o == owner && *s == "Running")
                .count()
                >= nodes
    }) else {
        return;
    };
    let quote = t.text[at..].lines().next().unwrap_or("").trim();
    out.push(Finding::new(
        Class::PodAffinity,
        0.4,
        format!(
            "{owner} already runs a replica on each of the {nodes} Ready node(s) and its next replica stays Pending: the signature of a required one-per-node pod anti-affinity (or a hostPort) with more replicas than nodes; add a node, lower the replicas, or make the anti-affinity preferred"
        ),
        quote,
        false,
        Fact::None,
    ));
}

#[cfg(test)]
mod tests;
