use super::*;

#[tokio::test]
async fn without_a_live_view_every_read_is_unavailable_not_a_finding() {
    let view = NoCluster;
    let secret = view.pull_secret("ci", "regcred").await;
    assert_eq!(secret, ClusterRead::Unavailable);
    assert!(!secret.is_decisive());
    let sa = view.service_account_pull_secrets("ci", "default").await;
    assert_eq!(sa, ClusterRead::Unavailable);
    assert!(ClusterRead::<()>::NotFound.is_decisive());
    assert!(
        !ClusterRead::<()>::Forbidden {
            detail: "rbac".into()
        }
        .is_decisive()
    );
}

#[test]
fn pull_secret_debug_shows_keys_never_values() {
    let s = PullSecret {
        type_: "kubernetes.io/dockerconfigjson".into(),
        data: [(".dockerconfigjson".to_owned(), b"hunter2-value".to_vec())].into(),
    };
    let shown = format!("{s:?}");
    assert!(shown.contains(".dockerconfigjson") && shown.contains("dockerconfigjson"));
    assert!(!shown.contains("hunter2"), "{shown}");
}

#[tokio::test]
async fn without_a_live_view_a_function_reads_the_incidents_own_snapshot_not_a_copy() {
    use lastmile_events::{Incident, IncidentFamily, ObjectRef};
    let mut incident = Incident::new(
        IncidentFamily::Pending,
        ObjectRef {
            kind: "Pod".into(),
            namespace: Some("ci".into()),
            name: "migrate-0".into(),
            ..Default::default()
        },
        None,
        chrono::Utc::now(),
    );
    std::sync::Arc::make_mut(&mut incident.snapshot).taken_at = Some(chrono::Utc::now());
    let snapshot = Context::offline().snapshot_for(&incident).await;
    assert!(std::sync::Arc::ptr_eq(&snapshot, &incident.snapshot));
}
