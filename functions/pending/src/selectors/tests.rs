use super::*;

fn taint(key: &str, value: Option<&str>, effect: &str) -> Taint {
    Taint {
        key: key.into(),
        value: value.map(Into::into),
        effect: effect.into(),
        ..Default::default()
    }
}

fn tol(
    key: Option<&str>,
    op: Option<&str>,
    value: Option<&str>,
    effect: Option<&str>,
) -> Toleration {
    Toleration {
        key: key.map(Into::into),
        operator: op.map(Into::into),
        value: value.map(Into::into),
        effect: effect.map(Into::into),
        ..Default::default()
    }
}

#[test]
fn toleration_operators_and_effects() {
    let t = taint("dedicated", Some("ci"), "NoSchedule");
    assert!(tolerates(
        &tol(Some("dedicated"), None, Some("ci"), Some("NoSchedule")),
        &t
    ));
    assert!(tolerates(
        &tol(Some("dedicated"), Some("Equal"), Some("ci"), None),
        &t
    ));
    assert!(!tolerates(
        &tol(Some("dedicated"), Some("Equal"), Some("gpu"), None),
        &t
    ));
    assert!(tolerates(
        &tol(Some("dedicated"), Some("Exists"), None, None),
        &t
    ));
    assert!(
        tolerates(&tol(None, Some("Exists"), None, None), &t),
        "empty key + Exists tolerates everything"
    );
    assert!(!tolerates(
        &tol(Some("dedicated"), Some("Exists"), None, Some("NoExecute")),
        &t
    ));
    assert!(!tolerates(&tol(None, Some("Equal"), Some("ci"), None), &t));
}

#[test]
fn prefer_no_schedule_does_not_block() {
    let taints = vec![
        taint("soft", None, "PreferNoSchedule"),
        taint("hard", Some("x"), "NoExecute"),
    ];
    assert_eq!(
        untolerated(&taints, &[]).map(|t| t.key.as_str()),
        Some("hard")
    );
    assert!(untolerated(&taints[..1], &[]).is_none());
}

fn req(key: &str, op: &str, values: &[&str]) -> NodeSelectorRequirement {
    NodeSelectorRequirement {
        key: key.into(),
        operator: op.into(),
        values: Some(values.iter().map(|s| (*s).to_owned()).collect()),
    }
}

#[test]
fn node_selector_operators() {
    let labels: Labels = [
        ("zone".to_owned(), "a".to_owned()),
        ("cores".to_owned(), "16".to_owned()),
    ]
    .into();
    let v = |k: &str| labels.get(k).map(String::as_str);
    assert!(requirement_matches(
        &req("zone", "In", &["a", "b"]),
        v("zone")
    ));
    assert!(!requirement_matches(
        &req("zone", "NotIn", &["a"]),
        v("zone")
    ));
    assert!(requirement_matches(&req("gpu", "NotIn", &["a"]), v("gpu")));
    assert!(requirement_matches(&req("zone", "Exists", &[]), v("zone")));
    assert!(requirement_matches(
        &req("gpu", "DoesNotExist", &[]),
        v("gpu")
    ));
    assert!(requirement_matches(&req("cores", "Gt", &["8"]), v("cores")));
    assert!(!requirement_matches(
        &req("cores", "Lt", &["8"]),
        v("cores")
    ));
    assert!(!requirement_matches(&req("zone", "Gt", &["8"]), v("zone")));
    let term = NodeSelectorTerm {
        match_fields: Some(vec![req("metadata.name", "In", &["n1"])]),
        ..Default::default()
    };
    assert!(term_matches(&term, &labels, "n1"));
    assert!(!term_matches(&term, &labels, "n2"));
    assert!(
        !term_matches(&NodeSelectorTerm::default(), &labels, "n1"),
        "empty term matches nothing"
    );
}

#[test]
fn label_selector_null_and_empty() {
    let labels: Labels = [("app".to_owned(), "db".to_owned())].into();
    assert!(!label_selector_matches(None, &labels));
    assert!(label_selector_matches(
        Some(&LabelSelector::default()),
        &labels
    ));
}
