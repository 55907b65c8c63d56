//! Unit tests of the path parsing, routing and label selectors.

use super::*;

#[test]
fn paths_map_to_resources_and_namespaces() {
    assert_eq!(
        parse_path("/api/v1/pods"),
        Some(("/api/v1/pods".into(), None))
    );
    assert_eq!(
        parse_path("/api/v1/namespaces/ci/events"),
        Some(("/api/v1/events".into(), Some("ci".into())))
    );
    assert_eq!(
        parse_path("/apis/batch/v1/namespaces/ci/jobs"),
        Some(("/apis/batch/v1/jobs".into(), Some("ci".into())))
    );
    assert_eq!(
        parse_path("/apis/storage.k8s.io/v1/storageclasses"),
        Some(("/apis/storage.k8s.io/v1/storageclasses".into(), None))
    );
    assert_eq!(parse_path("/version"), None);
    assert_eq!(
        route_of("discovery.k8s.io/v1", "EndpointSlice"),
        Some(("/apis/discovery.k8s.io/v1".into(), "endpointslices", true))
    );
    assert_eq!(
        route_of("v1", "Service"),
        Some(("/api/v1".into(), "services", true))
    );
}

#[test]
fn single_object_paths_name_the_object() {
    assert_eq!(
        parse_object_path("/api/v1/namespaces/ci/secrets/regcred"),
        Some(("/api/v1/secrets".into(), "ci".into(), "regcred".into()))
    );
    assert_eq!(
        parse_object_path("/api/v1/nodes/n1"),
        Some(("/api/v1/nodes".into(), String::new(), "n1".into()))
    );
    assert_eq!(parse_object_path("/api/v1/namespaces/ci/pods"), None);
    assert_eq!(parse_object_path("/api/v1/pods"), None);
}

#[test]
fn equality_label_selectors() {
    let o = json!({"metadata": {"labels": {"app": "api", "tier": "web"}}});
    assert!(labels_match(&o, Some("app=api,tier==web")));
    assert!(!labels_match(&o, Some("app=api,tier!=web")));
    assert!(labels_match(&o, Some("app")));
    assert!(!labels_match(&o, Some("missing")));
}
