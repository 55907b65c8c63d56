//! A node autoscaler that added some nodes and then stopped with pods still Pending, told
//! in words: "to test autoscaling I raised the replicas to 4; 2 nodes were created, but one
//! pod stays Pending". A scale-up that stops short usually met the node group's maximum
//! size (AKS `--max-count`, an ASG's `MaxSize`, a node pool's max nodes); otherwise the pod
//! left over fits no group's template.

use std::sync::LazyLock;

use lastmile_events::Class;
use regex::Regex;

use super::says_pending;
use crate::messages::rules::Input;
use crate::messages::{Fact, Finding, quote_at};

/// Node autoscaling named (lower-cased, flattened text): "autoscaling", "the autoscaler",
/// "auto-scale", "scaling of nodes", "scale up the nodes".
static NODE_SCALING_NAMED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\bauto-?scal\w*\b|\bscal(?:e|es|ed|ing) (?:up |out )?(?:of )?(?:the )?nodes?\b")
        .expect("the loose patterns are valid regexes")
});

/// Nodes said to have been added (lower-cased, flattened text): "2 nodes were created", "a
/// new node got added", "it added two nodes", "scaled out to 5 nodes".
static NODES_ADDED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(?:\d+|one|two|three|four|five|a|an|some|new|more|extra|additional) (?:new |more |extra |additional )?nodes? (?:were|was|got|are|is|have been|has been|had been) (?:created|added|provisioned|launched|spun up|brought up)\b|\b(?:added|created|provisioned|launched|spun up) (?:\d+|one|two|three|four|five|a|an|some|new|more|extra) (?:new |more |extra )?nodes?\b|\bscaled (?:up |out )?(?:from \d+ )?to \d+ nodes?\b")
        .expect("the loose patterns are valid regexes")
});

/// Nodes said to have been added under node autoscaling while pods stay Pending, with no
/// scheduler or autoscaler message quoted: the scale-up stopped short.
pub(in crate::messages) fn partial_scale_up(t: &Input<'_>, out: &mut Vec<Finding>) {
    if !t.anchors.is_empty()
        || !says_pending(t.lower)
        || !NODE_SCALING_NAMED.is_match(t.lower)
        || crate::messages::autoscaler::parse_autoscaler(t.flat).is_some()
    {
        return;
    }
    let Some(m) = NODES_ADDED.find(t.lower) else {
        return;
    };
    out.push(Finding::new(
        Class::NoScaleUp,
        0.45,
        "the node autoscaler added nodes and then stopped with pods still Pending: its node group is likely at its maximum size (AKS `--max-count`, an ASG's MaxSize, a node pool's max nodes), or the pod left over fits no group's template; read the autoscaler's NotTriggerScaleUp event or its status, and raise the group's maximum",
        &quote_at(t.flat, m.start()),
        false,
        Fact::None,
    ));
}

/// Forces every pattern of this module.
#[cfg(test)]
pub(super) fn compile_all() {
    LazyLock::force(&NODE_SCALING_NAMED);
    LazyLock::force(&NODES_ADDED);
}

#[cfg(test)]
mod tests;
