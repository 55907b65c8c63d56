use super::*;

#[test]
fn github_actions_variables() {
    let env: BTreeMap<String, String> = [
        ("GITHUB_ACTIONS", "true"),
        ("GITHUB_SERVER_URL", "https://github.com"),
        ("GITHUB_REPOSITORY", "acme/api"),
        ("GITHUB_RUN_ID", "9876"),
        ("GITHUB_RUN_ATTEMPT", "2"),
        (
            "GITHUB_WORKFLOW_REF",
            "acme/api/.github/workflows/ci.yml@refs/heads/main",
        ),
        ("GITHUB_SHA", "abc123"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let r = from_env(&env);
    assert_eq!(r.run.as_ref().unwrap().run_id, "9876");
    assert_eq!(
        r.builder_id,
        "https://github.com/acme/api/.github/workflows/ci.yml@refs/heads/main"
    );
    assert_eq!(
        r.invocation_id.as_deref(),
        Some("https://github.com/acme/api/actions/runs/9876/attempts/2")
    );
}
