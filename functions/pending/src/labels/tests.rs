use proptest::prelude::*;

use super::*;
use crate::selectors::{first_selector_mismatch, label_selector_matches, node_selector_matches};

fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[test]
fn lookups_find_values_and_miss_absent_keys() {
    let a = labels(&[("zone", "a"), ("app", "web"), ("tier", "1")]);
    let b = labels(&[("zone", "b")]);
    let mut t = LabelTable::default();
    let sa = t.add(&a);
    let sb = t.add(&b);
    let zone = t.id("zone").unwrap();
    assert_eq!(t.get(sa, zone).map(|v| t.str(v)), Some("a"));
    assert_eq!(t.get(sb, zone).map(|v| t.str(v)), Some("b"));
    assert_eq!(t.get(sb, t.id("app").unwrap()), None);
    assert_eq!(t.id("missing"), None);
    assert_eq!(t.get(LabelSet::default(), zone), None);
}

const KEYS: [&str; 4] = ["zone", "app", "tier", "gen"];
const VALUES: [&str; 5] = ["a", "b", "web", "1", "20"];
const OPS: [&str; 7] = ["In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt", "Bogus"];

fn arb_labels() -> impl Strategy<Value = Labels> {
    prop::collection::btree_map(
        prop::sample::select(&KEYS[..]).prop_map(str::to_owned),
        prop::sample::select(&VALUES[..]).prop_map(str::to_owned),
        0..4,
    )
}

fn arb_req() -> impl Strategy<Value = NodeSelectorRequirement> {
    (
        prop::sample::select(&KEYS[..]),
        prop::sample::select(&OPS[..]),
        prop::collection::vec(
            prop::sample::select(&["a", "b", "web", "1", "20", "zzz", "5"][..]),
            0..3,
        ),
    )
        .prop_map(|(k, op, vs)| NodeSelectorRequirement {
            key: k.into(),
            operator: op.into(),
            values: Some(vs.into_iter().map(str::to_owned).collect()),
        })
}

proptest! {
    /// The compiled matchers agree with the string matchers on every input.
    #[test]
    fn compiled_matchers_agree_with_string_matchers(
        objects in prop::collection::vec(arb_labels(), 1..5),
        terms in prop::collection::vec(prop::collection::vec(arb_req(), 0..3), 0..3),
        match_labels in prop::option::of(arb_labels()),
        exprs in prop::collection::vec(arb_req(), 0..3),
        map in arb_labels(),
    ) {
        let mut t = LabelTable::default();
        let sets: Vec<_> = objects.iter().map(|l| t.add(l)).collect();
        let ns = NodeSelector {
            node_selector_terms: terms.iter().map(|e| NodeSelectorTerm {
                match_expressions: Some(e.clone()),
                match_fields: None,
            }).collect(),
        };
        let ls = LabelSelector {
            match_labels: match_labels.clone(),
            match_expressions: Some(exprs.iter().map(|r| {
                k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelectorRequirement {
                    key: r.key.clone(),
                    operator: r.operator.clone(),
                    values: r.values.clone(),
                }
            }).collect()),
        };
        let cns = CompiledNodeSelector::new(&ns, &t);
        let cls = CompiledLabelSelector::new(Some(&ls), &t);
        let cmap = CompiledSelectorMap::new(&map, &t);
        for (l, s) in objects.iter().zip(&sets) {
            prop_assert_eq!(cns.matches(&t, *s, "n1"), node_selector_matches(&ns, l, "n1"));
            prop_assert_eq!(cls.matches(&t, *s), label_selector_matches(Some(&ls), l));
            prop_assert_eq!(cmap.first_mismatch(&t, *s), first_selector_mismatch(&map, l));
        }
        prop_assert!(!CompiledLabelSelector::new(None, &t).matches(&t, sets[0]));
    }
}
