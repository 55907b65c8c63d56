//! The rule table compiles, is listed, and never hides a rule behind the trigger.

use super::base64_runs::BASE64_RUN;
use super::*;

#[test]
fn every_rule_compiles_and_is_listed() {
    let names: Vec<&str> = super::rule_names().collect();
    assert_eq!(names, super::RULE_NAMES);
    assert!(
        TRIGGER.is_match(b"Bearer x") && BASE64_RUN.is_match(b"QUJDREVGR0hJSktMTU5PUFFSU1RVVldY")
    );
}

/// Whatever any rule matches in any sample also trips the trigger (else the rule
/// table would be skipped for it).
#[test]
fn every_sample_trips_the_trigger() {
    for seed in 0..256 {
        for sample in crate::samples::all(seed) {
            for rule in RULES.iter() {
                for m in rule.re.find_iter(sample.text.as_bytes()) {
                    assert!(
                        TRIGGER.is_match(m.as_bytes()),
                        "{}: {:?}",
                        rule.name,
                        String::from_utf8_lossy(m.as_bytes())
                    );
                }
            }
        }
    }
}
