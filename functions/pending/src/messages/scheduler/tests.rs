use super::*;
use lastmile_events::Class;

fn classes(fit: &FitMessage) -> Vec<(u64, Class)> {
    fit.reasons()
        .into_iter()
        .filter_map(|(n, _, r)| r.class().map(|c| (n, c)))
        .collect()
}

#[test]
fn current_grammar_with_preemption_suffix() {
    let m = "0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 2 Insufficient cpu. preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod.";
    let fit = parse_fit(m).unwrap();
    assert_eq!(fit.total, Some(3));
    assert_eq!(fit.histogram.len(), 2);
    assert_eq!(
        classes(&fit),
        vec![
            (1, Class::UntoleratedTaint),
            (2, Class::InsufficientResources)
        ]
    );
    assert!(
        fit.postfilter
            .unwrap()
            .starts_with("0/3 nodes are available: 1 Preemption")
    );
}

#[test]
fn double_period_of_v1_25_to_v1_27() {
    let fit = parse_fit("0/1 nodes are available: 1 node(s) had volume node affinity conflict. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling..").unwrap();
    assert_eq!(classes(&fit), vec![(1, Class::VolumeBinding)]);
    assert_eq!(
        fit.postfilter.as_deref(),
        Some("0/1 nodes are available: 1 Preemption is not helpful for scheduling")
    );
}

#[test]
fn no_suffix_of_v1_7_to_v1_23() {
    let fit = parse_fit("0/5 nodes are available: 3 Insufficient memory, 2 node(s) didn't match Pod's node affinity/selector.").unwrap();
    assert_eq!(
        classes(&fit),
        vec![(3, Class::InsufficientResources), (2, Class::NodeAffinity)]
    );
    assert!(fit.postfilter.is_none());
}

#[test]
fn prefilter_message_without_count() {
    let fit = parse_fit("0/3 nodes are available: pod has unbound immediate PersistentVolumeClaims. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.").unwrap();
    assert_eq!(
        fit.prefilter,
        vec!["pod has unbound immediate PersistentVolumeClaims"]
    );
    assert_eq!(classes(&fit), vec![(3, Class::VolumeBinding)]);
}

#[test]
fn old_taint_text_with_embedded_comma_is_one_item() {
    let fit = parse_fit("0/6 nodes are available: 3 node(s) had taint {node-role.kubernetes.io/master: }, that the pod didn't tolerate, 3 node(s) had volume node affinity conflict.").unwrap();
    assert_eq!(fit.histogram.len(), 2);
    assert_eq!(
        fit.histogram[0].1,
        "node(s) had taint {node-role.kubernetes.io/master: }, that the pod didn't tolerate"
    );
    match classify_reason(&fit.histogram[0].1) {
        Reason::Taint { key, value } => {
            assert_eq!(key.as_deref(), Some("node-role.kubernetes.io/master"));
            assert_eq!(value.as_deref(), Some(""));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn dra_postfilter_and_combined_prefix() {
    let fit = parse_fit("(combined from similar events): 0/17 nodes are available: 17 node(s) had untolerated taint(s). no new claims to deallocate, preemption: 0/17 nodes are available: 17 Preemption is not helpful for scheduling.").unwrap();
    assert_eq!(classes(&fit), vec![(17, Class::UntoleratedTaint)]);
    assert!(fit.postfilter.is_some());
}

#[test]
fn prefilter_result_plugin_list() {
    let fit = parse_fit("0/46 nodes are available: 1 Too many pods, 45 node(s) didn't satisfy plugin(s) [NodeAffinity].").unwrap();
    assert_eq!(
        classes(&fit),
        vec![(1, Class::InsufficientResources), (45, Class::NodeAffinity)]
    );
}

#[test]
fn truncated_event_keeps_the_complete_items() {
    let mut m = String::from("0/500 nodes are available: ");
    m.push_str("100 Insufficient cpu, 100 Insufficient memory, 300 node(s) had untolerated taint {dedicated: ci}, 7 node(s) didn't match Pod's no ...");
    let fit = parse_fit(&m).unwrap();
    assert!(fit.truncated);
    assert_eq!(fit.histogram.len(), 4);
    assert_eq!(fit.histogram[3].1, "node(s) didn't match Pod's no");
}

#[test]
fn legacy_predicates_list() {
    let fit = parse_fit("No nodes are available that match all of the following predicates:: Insufficient cpu (1), MatchNodeSelector (2).").unwrap();
    assert_eq!(
        classes(&fit),
        vec![(1, Class::InsufficientResources), (2, Class::NodeAffinity)]
    );
}

#[test]
fn lexical_order_and_big_counts() {
    let fit = parse_fit("0/5000 nodes are available: 10 node(s) were unschedulable, 2 node(s) didn't have free ports for the requested pod ports, 4988 Insufficient nvidia.com/gpu.").unwrap();
    assert_eq!(
        classes(&fit),
        vec![
            (10, Class::UnschedulableNodes),
            (2, Class::HostPorts),
            (4988, Class::InsufficientResources)
        ]
    );
}

#[test]
fn preemption_not_eligible_is_seen() {
    let fit = parse_fit("0/2 nodes are available: 2 Insufficient memory. preemption: not eligible due to preemptionPolicy=Never.").unwrap();
    assert!(fit.preemption_not_eligible());
}

#[test]
fn anchors_skip_the_preemption_header_and_find_wrapped_messages() {
    let text = "Pending: Unschedulable (message: 0/1 nodes are available: 1 node(s) had taint {node-role.kubernetes.io/control-plane: }, that the pod didn't tolerate. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.)";
    let a = anchors(text);
    assert_eq!(a.len(), 1);
    let fit = parse_fit(&text[a[0]..]).unwrap();
    assert_eq!(classes(&fit), vec![(1, Class::UntoleratedTaint)]);
}

#[test]
fn hostile_counts_do_not_panic() {
    let fit = parse_fit(
        "0/99999999999999999999 nodes are available: 18446744073709551616 Insufficient cpu",
    )
    .unwrap();
    assert_eq!(fit.total, None);
    assert_eq!(fit.histogram[0].0, u64::MAX);
    assert!(parse_fit("0/ nodes are available: -1 Insufficient \u{202e}cpu, , ,.. ... ").is_some());
    assert!(parse_fit("0/").is_none());
}

/// Volcano's header (`0/N nodes are unavailable:`) anchors the same histogram.
#[test]
fn volcano_unavailable_header_is_an_anchor() {
    let text = "Warning  FailedScheduling  volcano  0/4 nodes are unavailable: 1 node(s) had untolerated taint {node-role.kubernetes.io/master: }, 3 Insufficient nvidia.com/gpu.";
    let at = anchors(text);
    assert_eq!(at.len(), 1);
    let fit = parse_fit(&text[at[0]..]).unwrap();
    assert_eq!(fit.total, Some(4));
    assert_eq!(fit.histogram.len(), 2);
}
