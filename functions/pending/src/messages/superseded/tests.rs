use lastmile_events::Class;

use super::{age_seconds, superseded};

#[test]
fn kubectl_ages_read_as_seconds() {
    assert_eq!(age_seconds("88s"), Some(88));
    assert_eq!(age_seconds("2m38s"), Some(158));
    assert_eq!(age_seconds("3d4h"), Some(3 * 86_400 + 4 * 3600));
    for not_an_age in ["<invalid>", "default-scheduler", "12", "", "(x3", "5m3"] {
        assert_eq!(age_seconds(not_an_age), None, "{not_an_age}");
    }
}

/// The older row named an unbound claim; the newest names only a missing device: the claim
/// bound since, so its cause is history.
#[test]
fn a_cause_only_older_rows_name_is_superseded() {
    let text = "  Warning  FailedScheduling  2m38s (x3 over 2m49s)  default-scheduler  0/1 nodes are available: 1 pod has unbound immediate PersistentVolumeClaims. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.\n  Warning  FailedScheduling  2m33s                  default-scheduler  0/1 nodes are available: 1 Insufficient devices.kubevirt.io/kvm. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.";
    assert_eq!(superseded(text), vec![Class::VolumeBinding]);
}

/// One row, rows without ages, or rows that agree: nothing is superseded.
#[test]
fn nothing_is_superseded_without_disagreeing_aged_rows() {
    for text in [
        "Warning  FailedScheduling  5m  default-scheduler  0/3 nodes are available: 3 Insufficient cpu.",
        "Warning  FailedScheduling  default-scheduler  0/3 nodes are available: 3 Insufficient cpu.\nWarning  FailedScheduling  default-scheduler  0/3 nodes are available: 3 node(s) had untolerated taint {dedicated: gpu}.",
        "Warning  FailedScheduling  9m  default-scheduler  0/3 nodes are available: 3 Insufficient cpu.\nWarning  FailedScheduling  1m  default-scheduler  0/3 nodes are available: 3 Insufficient cpu.",
    ] {
        assert!(superseded(text).is_empty(), "{text}");
    }
}

/// Through the function's message reading: the newest row's cause leads, the older one
/// stays with a lower confidence and says why.
#[test]
fn the_newest_rows_cause_leads_the_findings() {
    let text = "Warning  FailedScheduling  12m (x6 over 20m)  default-scheduler  0/4 nodes are available: 4 node(s) had untolerated taint {node.kubernetes.io/not-ready: }.\nWarning  FailedScheduling  30s  default-scheduler  0/4 nodes are available: 4 Insufficient memory.";
    let mut incident = lastmile_events::Incident::new(
        lastmile_events::IncidentFamily::Pending,
        lastmile_events::ObjectRef::default(),
        None,
        chrono::DateTime::<chrono::Utc>::UNIX_EPOCH,
    );
    incident.text = Some(text.to_owned());
    let found = crate::combine::message_findings(&incident);
    assert_eq!(found[0].class, Class::InsufficientResources, "{found:#?}");
    let taint = found
        .iter()
        .find(|f| f.class == Class::UntoleratedTaint)
        .unwrap();
    assert!(
        taint.summary.contains("only older FailedScheduling rows"),
        "{}",
        taint.summary
    );
}
