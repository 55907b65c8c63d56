use super::*;

#[test]
fn report_matches_the_taxonomy_shape() {
    let mut d = Diagnosis::new(
        Class::IMAGE_AUTH,
        0.9,
        "pull secret missing",
        Subject {
            kind: "Pod".into(),
            namespace: Some("ci".into()),
            name: "m".into(),
            container: Some("c".into()),
        },
    );
    d.remediation.push(Remediation {
        description: "attach".into(),
        command: Some("kubectl patch".into()),
    });
    let low = Diagnosis::new(Class::UNKNOWN, 0.2, "?", Subject::default());
    let json = serde_json::to_value(DiagnosisReport::new(vec![low, d])).unwrap();
    let first = &json["diagnoses"][0];
    assert_eq!(first["class"], "image.auth");
    assert_eq!(first["subject"]["container"], "c");
    assert_eq!(first["remediation"][0]["command"], "kubectl patch");
    assert!(first["evidence"].is_array());
    assert_eq!(json["diagnoses"][1]["class"], "unknown");
}

#[test]
fn confidence_is_clamped() {
    assert_eq!(
        Diagnosis::new("unknown", 7.0, "", Subject::default()).confidence,
        1.0
    );
}

#[test]
fn merged_keeps_the_most_confident_of_one_class_per_subject() {
    let pod = |name: &str| Subject {
        kind: "Pod".into(),
        namespace: Some("ci".into()),
        name: name.into(),
        container: None,
    };
    let mut rule = Diagnosis::new(Class::JOB_DEADLINE_EXCEEDED, 0.9, "rule", pod("a"));
    rule.function = Some("workload".into());
    let mut lead = Diagnosis::new(Class::JOB_DEADLINE_EXCEEDED, 0.55, "lead", pod("a"));
    lead.function = Some("wording".into());
    let other_pod = Diagnosis::new(Class::JOB_DEADLINE_EXCEEDED, 0.5, "b", pod("b"));
    let other_class = Diagnosis::new(Class::IMAGE_AUTH, 0.6, "auth", pod("a"));
    let report = DiagnosisReport::merged(vec![lead, other_pod, rule, other_class]);
    let kept: Vec<&str> = report
        .diagnoses
        .iter()
        .map(|d| d.summary.as_str())
        .collect();
    assert_eq!(kept, ["rule", "auth", "b"]);
}

#[test]
fn merged_lets_a_lead_contest_only_after_one_per_cause() {
    let mut lead = Diagnosis::new(Class::IMAGE_NOT_FOUND, 0.45, "lead", Subject::default());
    lead.details = serde_json::json!({ crate::ranking::LEAD_DETAIL: {} });
    let auth = Diagnosis::new(Class::IMAGE_AUTH, 0.7, "auth", Subject::default());
    let not_found = Diagnosis::new(Class::IMAGE_NOT_FOUND, 0.6, "not found", Subject::default());
    // A rule names the lead's class too: the lead is that finding, which keeps its place.
    let report = DiagnosisReport::merged(vec![lead.clone(), auth.clone(), not_found]);
    let kept: Vec<&str> = report
        .diagnoses
        .iter()
        .map(|d| d.summary.as_str())
        .collect();
    assert_eq!(kept, ["auth", "not found"]);
    // No rule does: the lead contests the finding without conviction.
    let report = DiagnosisReport::merged(vec![auth, lead]);
    let kept: Vec<&str> = report
        .diagnoses
        .iter()
        .map(|d| d.summary.as_str())
        .collect();
    assert_eq!(kept, ["lead", "auth"]);
}
