use super::*;
use crate::{Class, Subject};

fn rule(class: &str, confidence: f64) -> Diagnosis {
    let mut d = Diagnosis::new(class, confidence, "rule", Subject::default());
    d.function = Some("image-pull".into());
    d.definitive = true;
    d.incident = Some("ci/pod/app".into());
    d
}

fn lead(class: &str, confidence: f64) -> Diagnosis {
    let mut d = Diagnosis::new(class, confidence, "lead", Subject::default());
    d.function = Some("wording".into());
    d.details = serde_json::json!({ LEAD_DETAIL: { "class": class, "score": 0.1 } });
    d.incident = Some("ci/pod/app".into());
    d
}

fn classes(ds: &[Diagnosis]) -> Vec<&str> {
    ds.iter().map(|d| d.class.as_str()).collect()
}

#[test]
fn a_lead_contests_a_finding_without_conviction_and_says_so() {
    let mut ds = vec![
        lead(Class::IMAGE_NOT_FOUND, 0.45),
        rule(Class::IMAGE_AUTH, 0.7),
        rule(Class::IMAGE_NETWORK, 0.5),
    ];
    order(&mut ds);
    assert_eq!(
        classes(&ds),
        [
            Class::IMAGE_NOT_FOUND,
            Class::IMAGE_AUTH,
            Class::IMAGE_NETWORK
        ]
    );
    assert!(
        ds[0].evidence[0].starts_with("ranked above `image.auth` (70%, function image-pull)"),
        "{:?}",
        ds[0].evidence
    );
    // The finding itself is untouched.
    assert!(ds[1].definitive && ds[1].evidence.is_empty());
}

#[test]
fn a_convinced_finding_a_weak_lead_or_the_same_class_keep_confidence_order() {
    for (finding, lead_conf, lead_class) in [
        (0.85, 0.55, Class::IMAGE_NOT_FOUND),
        (0.7, 0.3, Class::IMAGE_NOT_FOUND),
        (0.7, 0.55, Class::IMAGE_AUTH),
    ] {
        let mut ds = vec![
            lead(lead_class, lead_conf),
            rule(Class::IMAGE_AUTH, finding),
        ];
        order(&mut ds);
        assert_eq!(ds[0].summary, "rule", "{finding} {lead_conf} {lead_class}");
        assert!(ds.iter().all(|d| d.evidence.is_empty()));
    }
}

#[test]
fn a_lead_contests_only_its_own_incident_and_only_rules() {
    let mut other = lead(Class::IMAGE_NOT_FOUND, 0.55);
    other.incident = Some("ci/pod/other".into());
    let mut ds = vec![rule(Class::IMAGE_AUTH, 0.7), other];
    order(&mut ds);
    assert_eq!(ds[0].summary, "rule");
    // A definitive diagnosis is never a lead, whatever its details say.
    let mut not_a_lead = lead(Class::IMAGE_NOT_FOUND, 0.55);
    not_a_lead.definitive = true;
    assert!(!is_lead(&not_a_lead));
    let mut ds = vec![
        lead(Class::IMAGE_NOT_FOUND, 0.55),
        lead(Class::IMAGE_AUTH, 0.45),
    ];
    order(&mut ds);
    assert_eq!(classes(&ds), [Class::IMAGE_NOT_FOUND, Class::IMAGE_AUTH]);
    order(&mut []);
}

/// A lead of the same class as a weaker rule's finding does not hide it: the finding stays
/// (definitive, with its facts), at the lead's confidence, saying the words agree; a lead of
/// another class is untouched.
#[test]
fn a_lead_agreeing_with_a_weaker_finding_is_folded_into_it() {
    let mut ds = vec![
        lead(Class::JOB_BACKOFF_LIMIT, 0.55),
        rule(Class::JOB_BACKOFF_LIMIT, 0.5),
        rule(Class::RUNTIME_CRASHLOOP, 0.45),
    ];
    corroborate(&mut ds);
    assert_eq!(
        classes(&ds),
        [Class::JOB_BACKOFF_LIMIT, Class::RUNTIME_CRASHLOOP]
    );
    assert!(!is_lead(&ds[0]) && ds[0].definitive, "{:?}", ds[0]);
    assert!((ds[0].confidence - 0.55).abs() < 1e-9);
    assert!(
        ds[0].evidence.last().unwrap().contains("weigh toward"),
        "{:?}",
        ds[0].evidence
    );
    let mut ds = vec![
        rule(Class::IMAGE_AUTH, 0.7),
        lead(Class::IMAGE_NOT_FOUND, 0.45),
    ];
    corroborate(&mut ds);
    assert_eq!(classes(&ds), [Class::IMAGE_AUTH, Class::IMAGE_NOT_FOUND]);
    assert!((ds[0].confidence - 0.7).abs() < 1e-9);
}

/// A lead about the pod folds into a finding narrowed to one of the pod's containers: the
/// same subject, read more closely. A finding about another object keeps the lead apart.
#[test]
fn a_lead_folds_into_a_finding_about_one_of_its_subjects_containers() {
    let pod = Subject {
        kind: "Pod".into(),
        namespace: Some("app".into()),
        name: "web-0".into(),
        container: None,
    };
    let mut finding = rule(Class::INIT_CRASHLOOP, 0.8);
    finding.subject = Subject {
        container: Some("istio-validation".into()),
        ..pod.clone()
    };
    let mut reading = lead(Class::INIT_CRASHLOOP, 0.55);
    reading.subject = pod.clone();
    let mut ds = vec![finding.clone(), reading.clone()];
    settle_leads(&mut ds);
    assert_eq!(ds.len(), 1, "{ds:?}");
    assert_eq!(ds[0].subject.container.as_deref(), Some("istio-validation"));

    let mut other = finding;
    other.subject.name = "web-1".into();
    let mut ds = vec![other, reading];
    settle_leads(&mut ds);
    assert_eq!(ds.len(), 2);
}

/// A lead about an object the pasted text never named (`unknown`) folds into the finding
/// its incident's rule made about the object it did name (a Job, from `Controlled By:`); a
/// lead of another incident does not.
#[test]
fn a_lead_about_an_unnamed_object_folds_into_its_incidents_finding() {
    let mut finding = rule(Class::JOB_BACKOFF_LIMIT, 0.6);
    finding.subject = Subject {
        kind: "Job".into(),
        namespace: None,
        name: "apply-upgrade".into(),
        container: None,
    };
    let mut reading = lead(Class::JOB_BACKOFF_LIMIT, 0.45);
    reading.subject = Subject {
        kind: "Pod".into(),
        namespace: None,
        name: "unknown".into(),
        container: None,
    };
    let mut ds = vec![finding.clone(), reading.clone()];
    settle_leads(&mut ds);
    assert_eq!(ds.len(), 1, "{ds:?}");
    assert_eq!(ds[0].subject.name, "apply-upgrade");
    assert!(ds[0].evidence.iter().any(|e| e.contains("weigh toward")));

    reading.incident = Some("ci/pod/other".into());
    let mut ds = vec![finding, reading];
    settle_leads(&mut ds);
    assert_eq!(ds.len(), 2, "{ds:?}");
}

/// Folding keeps the order the contest chose: a lead that moved ahead of another class's
/// finding keeps that place (and its line) once its own weaker finding is folded in; a lead
/// weaker than its finding changes no rank (`DiagnosisReport::merged`).
#[test]
fn folding_keeps_the_rank_a_contest_gave_and_weaker_leads_change_none() {
    let ds = crate::DiagnosisReport::merged(vec![
        rule(Class::IMAGE_AUTH, 0.7),
        lead(Class::IMAGE_NOT_FOUND, 0.45),
        rule(Class::IMAGE_NOT_FOUND, 0.3),
    ])
    .diagnoses;
    assert_eq!(classes(&ds), [Class::IMAGE_NOT_FOUND, Class::IMAGE_AUTH]);
    assert!(!is_lead(&ds[0]), "{:?}", ds[0]);
    assert!(
        ds[0].evidence[0].starts_with(RANKED_ABOVE),
        "{:?}",
        ds[0].evidence
    );
    assert!((ds[0].confidence - 0.45).abs() < 1e-9);
    let ds = crate::DiagnosisReport::merged(vec![
        rule(Class::IMAGE_AUTH, 0.7),
        lead(Class::IMAGE_NOT_FOUND, 0.45),
        rule(Class::IMAGE_NOT_FOUND, 0.6),
    ])
    .diagnoses;
    assert_eq!(classes(&ds), [Class::IMAGE_AUTH, Class::IMAGE_NOT_FOUND]);
    assert!((ds[1].confidence - 0.6).abs() < 1e-9);
    assert!(ds[1].evidence.last().unwrap().contains("weigh toward"));
}
