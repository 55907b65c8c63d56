use super::*;

#[test]
fn replicaset_of_a_deployment_is_the_deployment_and_a_job_is_itself() {
    let pod: Pod = serde_json::from_value(serde_json::json!({"metadata": {
            "name": "api-7d9f8b6c5d-kq2xv", "namespace": "shop", "labels": {"pod-template-hash": "7d9f8b6c5d"},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "api-7d9f8b6c5d", "uid": "u1", "controller": true}]}}))
        .unwrap();
    let w = workload_of(&pod).unwrap();
    assert_eq!(
        workload_key(&w.kind, w.namespace.as_deref().unwrap(), &w.name),
        "deployment/shop/api"
    );
    let job_pod: Pod = serde_json::from_value(serde_json::json!({"metadata": {
            "name": "migrate-x", "namespace": "ci",
            "ownerReferences": [{"apiVersion": "batch/v1", "kind": "Job", "name": "migrate", "uid": "u2", "controller": true}]}}))
        .unwrap();
    assert_eq!(workload_of(&job_pod).unwrap().kind, "Job");
    assert!(is_pod_name_of_job("migrate-x7k2p", "migrate"));
    assert!(
        !is_pod_name_of_job("migrate", "migrate") && !is_pod_name_of_job("migrated-1", "migrate")
    );
}

#[test]
fn a_kueue_workload_names_its_job() {
    assert_eq!(kueue_workload_job("job-train-5c1e7"), Some("train"));
    assert_eq!(
        kueue_workload_job("job-nightly-etl-a0b9f"),
        Some("nightly-etl")
    );
    for other in [
        "train-5c1e7",
        "job-train",
        "job--5c1e7",
        "job-train-5C1E7",
        "job-train-5c1e",
        "job-train-5c1e7x",
        "jobset-train-5c1e7",
    ] {
        assert_eq!(kueue_workload_job(other), None, "{other}");
    }
}
