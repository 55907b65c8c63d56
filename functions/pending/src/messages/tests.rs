#![allow(clippy::unwrap_used)]

use super::rules::{Input, RULES};
use super::*;

/// The names of the rules that find something in `text`, each rule run alone.
fn rules_hit(text: &str) -> Vec<&'static str> {
    let flat = flatten(text);
    let lower = flat.to_ascii_lowercase();
    let input = Input {
        text,
        flat: &flat,
        lower: &lower,
    };
    RULES
        .iter()
        .filter(|rule| {
            let mut out = Vec::new();
            (rule.scan)(&input, &mut out);
            !out.is_empty()
        })
        .map(|rule| rule.name)
        .collect()
}

/// One sample per rule that this rule, and no other, finds.
#[test]
fn each_rule_finds_its_own_sample() {
    let samples = [
        ("fit-error", "0/3 nodes are available: 3 Insufficient cpu."),
        ("bare-reason", "3 Insufficient memory"),
        (
            "quota",
            "exceeded quota: compute, requested: requests.cpu=2, used: requests.cpu=9, limited: requests.cpu=10",
        ),
        (
            "limit-range",
            "maximum cpu usage per Container is 2, but limit is 4",
        ),
        (
            "policy",
            "admission webhook \"validate.kyverno.svc\" denied the request: require-labels",
        ),
        (
            "autoscaler",
            "Normal NotTriggerScaleUp pod didn't trigger scale-up: 2 max node group size reached",
        ),
        ("no-nodes", "no nodes available to schedule pods"),
        ("scheduling-gate", "the pod is SchedulingGated"),
        ("kubelet-predicate", "Pod Predicate NodeAffinity failed"),
        (
            "plugin-error",
            "running PreBind plugin \"VolumeBinding\": binding volumes: context deadline exceeded",
        ),
        ("volume", "storageclass.storage.k8s.io \"fast\" not found"),
        (
            "node-taints",
            "Taints:             dedicated=gpu:NoSchedule",
        ),
        (
            "cni-not-ready",
            "container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady",
        ),
    ];
    for (name, text) in samples {
        assert_eq!(rules_hit(text), [name], "{text}");
    }
    for rule in RULES {
        assert!(
            samples.iter().any(|(n, _)| *n == rule.name),
            "no sample for rule {}",
            rule.name
        );
    }
    assert!(rules_hit("all good").is_empty());
}

#[test]
fn every_pattern_compiles() {
    rules::compile_all();
    admission::compile_all();
}

#[test]
fn shorten_cuts_on_a_char_boundary_and_marks_the_cut() {
    assert_eq!(shorten("  short  ", 10), "short");
    let cut = shorten(&"é".repeat(10), 5);
    assert_eq!(cut, "éé …");
}
