use super::*;

fn meta(ann: &[(&str, &str)], labels: &[(&str, &str)]) -> ObjectMeta {
    let m = |kv: &[(&str, &str)]| {
        Some(
            kv.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    };
    ObjectMeta {
        annotations: m(ann),
        labels: m(labels),
        ..Default::default()
    }
}

#[test]
fn provider_prefix_in_the_run_annotation_is_split() {
    let r = ci_run_of(&meta(
        &[(CI_RUN, "github/9876543210"), (COMMIT, "abc123")],
        &[],
    ))
    .unwrap();
    assert_eq!(r.provider, CiProvider::Github);
    assert_eq!(r.run_id, "9876543210");
    assert_eq!(r.commit.as_deref(), Some("abc123"));
}

#[test]
fn label_is_used_when_no_annotation_and_provider_from_its_own_key() {
    let r = ci_run_of(&meta(&[(CI_PROVIDER, "gitlab")], &[(CI_RUN, "1187")])).unwrap();
    assert_eq!(
        (r.provider, r.run_id.as_str()),
        (CiProvider::Gitlab, "1187")
    );
    assert!(ci_run_of(&meta(&[(CI_RUN, "  ")], &[])).is_none());
}
