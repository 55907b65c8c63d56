//! Tests of the function on incidents as intake builds them.

use lastmile_events::Class;

use crate::{classify, confidence, diagnose};

fn text(t: &str) -> lastmile_events::Incident {
    lastmile_intake::incident_from_text(t)
}

#[test]
fn prose_about_a_pending_pod_on_tainted_nodes_reads_as_a_taint() {
    let d = diagnose(&text(
        "Our CI pods stay Pending forever. Every worker node has the taint dedicated=gpu:NoSchedule \
         and the pod spec has no tolerations for it.",
    ))
    .unwrap();
    assert_eq!(d.class.as_str(), Class::UNTOLERATED_TAINT);
    assert!(d.confidence <= confidence::HIGHEST);
    assert!(d.summary.contains("a lead to confirm"), "{}", d.summary);
    assert!(
        d.evidence
            .iter()
            .any(|e| e.contains("words that weighed most"))
    );
}

#[test]
fn a_go_build_that_differs_between_ci_and_laptops_reads_as_a_build_class() {
    let d = diagnose(&text(
        "The binary CI builds has a different sha256 than the one I build locally from the same \
         commit with go build; the -trimpath flag and the buildvcs stamping differ.",
    ))
    .unwrap();
    assert_eq!(d.class.family(), "build", "{:?}", d.class);
    assert_eq!(
        d.remediation[0].command.as_deref(),
        Some("go mod verify && go build -mod=readonly ./...")
    );
}

#[test]
fn text_with_no_known_words_or_no_leaning_gets_no_diagnosis() {
    assert!(diagnose(&text("the deploy is slow today\nno idea why\n")).is_none());
    assert!(diagnose(&text("zzqx wvvb")).is_none());
    assert!(diagnose(&text("")).is_none());
    assert!(classify::read("12345 !!! ---").is_none());
}

#[test]
fn the_same_text_reads_the_same_way_and_a_huge_one_is_bounded() {
    let t = "Back-off pulling image \"registry.example.com/app:1.2\": unauthorized: authentication required";
    assert_eq!(classify::read(t), classify::read(t));
    let huge = format!("{}{}", "noise line without meaning\n".repeat(40_000), t);
    let r = classify::read(&huge).unwrap();
    assert_eq!(r.class, Class::IMAGE_AUTH, "{r:?}");
}

#[test]
fn confidence_bands_rise_with_the_score_and_stay_below_rules() {
    assert_eq!(confidence::of(confidence::FLOOR - 0.01), None);
    let scores = [confidence::FLOOR, -0.4, -0.2, 0.0, 0.25, 3.0];
    let c: Vec<f64> = scores.iter().map(|&s| confidence::of(s).unwrap()).collect();
    assert!(c.windows(2).all(|w| w[0] <= w[1]), "{c:?}");
    assert!(c.iter().all(|&x| x <= confidence::HIGHEST && x > 0.0));
}

mod cross_validation;

#[test]
fn a_model_survives_its_byte_format_and_a_cut_one_is_refused() {
    let reports: Vec<(String, String)> = [
        ("pull access denied unauthorized registry", "image.auth"),
        ("unauthorized registry pull token expired", "image.auth"),
        ("registry pull unauthorized denied secret", "image.auth"),
        (
            "node had untolerated taint pending pod",
            "scheduling.untolerated_taint",
        ),
        (
            "pending pod untolerated taint on node",
            "scheduling.untolerated_taint",
        ),
        (
            "taint node pending pod untolerated",
            "scheduling.untolerated_taint",
        ),
    ]
    .iter()
    .map(|(t, c)| ((*t).to_owned(), (*c).to_owned()))
    .collect();
    let model = crate::train::learn(&reports);
    assert_eq!(model.classes.len(), 2);
    assert!(model.terms.iter().any(|t| t == "unauthorized"));
    let bytes = model.encode();
    assert_eq!(crate::model::Model::decode(&bytes), Some(model.clone()));
    assert_eq!(crate::model::Model::decode(&bytes[..bytes.len() - 1]), None);
    assert_eq!(crate::model::Model::decode(b"LMW1\xff\xff\xff\xff"), None);
    let scorer = classify::Scorer::new(model);
    let r = scorer.read("the registry said unauthorized").unwrap();
    assert_eq!(r.class, "image.auth");
    assert!(r.terms.iter().any(|t| t == "unauthorized"), "{r:?}");
    assert!(
        !r.terms.iter().any(|t| t == "said"),
        "not in the vocabulary: {r:?}"
    );
}
