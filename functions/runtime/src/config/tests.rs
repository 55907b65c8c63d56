use super::*;

#[test]
fn reads_every_kubelet_phrasing() {
    let m = missing_in(r#"Error: secrets "secrets-2.16.4-1" not found"#).unwrap();
    assert_eq!(
        (m.kind, m.name.as_str(), m.key),
        ("Secret", "secrets-2.16.4-1", None)
    );
    let m = missing_in(r#"Error: configmap "cluster-config" not found"#).unwrap();
    assert_eq!((m.kind, m.name.as_str()), ("ConfigMap", "cluster-config"));
    let m = missing_in(
        "Error: Couldn't find key logs.region in ConfigMap amazon-cloudwatch/cluster-info",
    )
    .unwrap();
    assert_eq!(
        (
            m.kind,
            m.name.as_str(),
            m.namespace.as_deref(),
            m.key.as_deref()
        ),
        (
            "ConfigMap",
            "cluster-info",
            Some("amazon-cloudwatch"),
            Some("logs.region")
        )
    );
    assert_eq!(missing_in("pod \"web\" not found"), None);
}

#[test]
fn keys_that_differ_in_case_or_separators_are_the_same_key() {
    assert!(same_key("logs_region", "logs.region"));
    assert!(same_key("DB_URL", "db-url"));
    assert!(!same_key("url", "uri"));
    assert!(!same_key("url", "url"));
}
