use super::*;

#[test]
fn subjects_follow_the_scheme() {
    assert_eq!(k8s("Pod", Some("ci")), "lastmile.k8s.pod.ci");
    assert_eq!(k8s("Node", None), "lastmile.k8s.node._cluster");
    assert_eq!(diagnosis("image.auth"), "lastmile.diagnosis.image.auth");
    assert_eq!(
        remediation("scheduling.untolerated_taint"),
        "lastmile.remediation.scheduling.untolerated_taint"
    );
    assert_eq!(
        incident(IncidentFamily::ImagePull),
        "lastmile.incident.image-pull"
    );
    assert_eq!(dlq("image pull"), "lastmile.dlq.image_pull");
    assert_eq!(
        ci("github", "workflow.run"),
        "lastmile.ci.github.workflow_run"
    );
}

#[test]
fn every_subject_lands_in_exactly_one_stream() {
    let samples = [
        k8s("Pod", Some("a")),
        ci("gitlab", "job_failed"),
        incident(IncidentFamily::Pending),
        diagnosis("image.tls"),
        remediation("image.tls"),
        dlq("pending"),
    ];
    for s in samples {
        let n = STREAMS
            .iter()
            .filter(|st| {
                st.subjects
                    .iter()
                    .any(|p| s.starts_with(p.trim_end_matches('>')))
            })
            .count();
        assert_eq!(n, 1, "{s}");
    }
}
