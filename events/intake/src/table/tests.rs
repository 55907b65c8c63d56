use super::*;

#[test]
fn builds_every_regex() {
    LazyLock::force(&SEP);
    LazyLock::force(&REPEAT);
}

fn pod() -> ObjectRef {
    ObjectRef {
        kind: "Pod".into(),
        namespace: Some("ci".into()),
        name: "migrate-x7k2p".into(),
        ..Default::default()
    }
}

#[test]
fn describe_events_with_counts_and_wrapped_message() {
    let text = "Events:
  Type     Reason            Age                  From               Message
  ----     ------            ----                 ----               -------
  Warning  FailedScheduling  2m (x17 over 9m)     default-scheduler  0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: },
 2 Insufficient cpu. preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod.
  Normal   NotTriggerScaleUp  3m                  cluster-autoscaler  pod didn't trigger scale-up: 1 max node group size reached
";
    let evs = events_from_text(text, &pod());
    assert_eq!(evs.len(), 2, "{evs:#?}");
    assert_eq!(evs[0].count, 17);
    assert_eq!(evs[0].reason, "FailedScheduling");
    assert_eq!(evs[0].reporting_controller, "default-scheduler");
    assert!(
        evs[0]
            .message
            .ends_with("No preemption victims found for incoming pod."),
        "{}",
        evs[0].message
    );
    assert!(
        evs[0]
            .message
            .contains("taint {node-role.kubernetes.io/control-plane: }, 2 Insufficient cpu.")
    );
    assert_eq!(evs[1].reporting_controller, "cluster-autoscaler");
    assert_eq!(evs[0].regarding, pod());
}

#[test]
fn get_events_table_names_objects() {
    let text = "NAMESPACE   LAST SEEN   TYPE      REASON         OBJECT                MESSAGE
ci          4m12s       Warning   FailedCreate   job/migrate           Error creating: pods \"migrate-ds7zk\" is forbidden: exceeded quota: compute, requested: requests.cpu=2, used: requests.cpu=7, limited: requests.cpu=8
ci          30s         Warning   Failed         pod/api-5d9c-abcde    Failed to pull image \"ghcr.io/acme/api:v2\": not found
";
    let evs = events_from_text(text, &pod());
    assert_eq!(evs.len(), 2);
    assert_eq!(evs[0].regarding.kind, "Job");
    assert_eq!(evs[0].regarding.name, "migrate");
    assert_eq!(evs[0].regarding.namespace.as_deref(), Some("ci"));
    assert_eq!(evs[1].regarding.name, "api-5d9c-abcde");
    assert!(evs[1].message.starts_with("Failed to pull image"));
}

#[test]
fn two_spaces_inside_a_message_survive() {
    let text = "  Type     Reason        Age   From            Message
  Warning  FailedCreate  1s    job-controller  Error creating: pods \"x-\" is forbidden: maximum cpu usage per Container is 2.  No limit is specified
";
    let evs = events_from_text(text, &pod());
    assert_eq!(evs.len(), 1);
    assert!(
        evs[0].message.ends_with("is 2.  No limit is specified"),
        "{}",
        evs[0].message
    );
}

#[test]
fn lone_rows_without_a_header() {
    let text =
        "Warning  Failed     12s (x3 over 50s)  kubelet  Error: ImagePullBackOff\nsome log line\n";
    let evs = events_from_text(text, &pod());
    assert_eq!(evs.len(), 1);
    assert_eq!(evs[0].count, 3);
    assert_eq!(evs[0].message, "Error: ImagePullBackOff");
    assert_eq!(evs[0].reporting_controller, "kubelet");
}

#[test]
fn old_describe_layout_with_empty_subobject() {
    let text = "  FirstSeen\tLastSeen\tCount\tFrom\t\t\tSubObjectPath\tType\t\tReason\t\t\tMessage
  ---------\t--------\t-----\t----\t\t\t-------------\t--------\t------\t\t\t-------
  1m\t\t1m\t\t1\t{default-scheduler }\t\t\tWarning\t\tFailedScheduling\tNo nodes are available that match all of the following predicates:: Insufficient cpu (3).
";
    let evs = events_from_text(text, &pod());
    assert_eq!(evs.len(), 1, "{evs:#?}");
    assert_eq!(evs[0].reason, "FailedScheduling");
    assert!(evs[0].message.contains("Insufficient cpu (3)"));
}

#[test]
fn prose_is_not_an_event() {
    assert!(events_from_text("The Warning was that nothing happened.\n", &pod()).is_empty());
}
