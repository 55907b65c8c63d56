//! A node's disk over the kubelet's thresholds, shown by the kubelet's own logs or events
//! rather than by a fit error: image garbage collection over its high threshold, the
//! eviction manager reclaiming disk, `NodeHasDiskPressure`. The kubelet then sets the
//! `DiskPressure` condition and the node carries the `node.kubernetes.io/disk-pressure:
//! NoSchedule` taint, so new pods do not land there until disk usage falls below the
//! thresholds again.

use std::sync::LazyLock;

use lastmile_events::Class;
use regex::Regex;

use crate::messages::rules::Input;
use crate::messages::{Fact, Finding, quote_at};

/// The kubelet saying its disk is over a threshold (lower-cased, flattened text): image
/// GC's "disk usage on image filesystem is at 90% which is over the high threshold (85%)",
/// "failed to garbage collect required amount of images", the eviction manager's
/// "attempting to reclaim ephemeral-storage|nodefs|imagefs", the `NodeHasDiskPressure`
/// event, "eviction threshold met … nodefs.available".
static KUBELET_DISK_PRESSURE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\bdisk usage on (?:image|node|root|container) ?(?:filesystem|fs)\b[^.\n]{0,40}?\bover the (?:high )?threshold\b|\bfailed to garbage collect required amount of images\b|\beviction manager:? attempting to reclaim (?:ephemeral-storage|nodefs|imagefs|containerfs)\b|\bnodehasdiskpressure\b|\bnode(?: \S+)? (?:has|is under|under) disk ?pressure\b|\bthreshold (?:met|crossed|reached)\b[^.\n]{0,60}?\b(?:nodefs|imagefs|containerfs)\.(?:available|inodesfree)\b")
        .expect("the loose patterns are valid regexes")
});

/// Pods said to run fine: the threshold did not hold anything up (lower-cased text).
static PODS_FINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(?:all )?(?:the )?pods? (?:are|were|is|was|keep|kept) (?:all |still )?(?:running|healthy|fine|up)\b")
        .expect("the loose patterns are valid regexes")
});

/// The kubelet's disk-pressure words beside pods, with no fit error quoted and the pods
/// not said to run fine: the node's disk-pressure taint keeps new pods off it.
pub(in crate::messages) fn described_disk_pressure(t: &Input<'_>, out: &mut Vec<Finding>) {
    if !t.anchors.is_empty() || !t.lower.contains("pod") || PODS_FINE.is_match(t.lower) {
        return;
    }
    let Some(m) = KUBELET_DISK_PRESSURE.find(t.lower) else {
        return;
    };
    out.push(Finding::new(
        Class::UntoleratedTaint,
        0.5,
        "the kubelet reports its disk over a threshold (image garbage collection over its high threshold, the eviction manager reclaiming disk): the node has the DiskPressure condition and the `node.kubernetes.io/disk-pressure:NoSchedule` taint, so new pods do not land there; free disk (images, logs, emptyDirs) until usage is below the kubelet's eviction and image-GC thresholds, or grow the disk",
        &quote_at(t.flat, m.start()),
        false,
        Fact::None,
    ));
}

/// Forces every pattern of this module.
#[cfg(test)]
pub(super) fn compile_all() {
    LazyLock::force(&KUBELET_DISK_PRESSURE);
    LazyLock::force(&PODS_FINE);
}

#[cfg(test)]
mod tests;
