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
