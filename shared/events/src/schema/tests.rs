use std::path::PathBuf;

#[test]
fn checked_in_schemas_match_the_code() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("schemas");
    let bless = std::env::var_os("LASTMILE_BLESS").is_some();
    let mut drifted = Vec::new();
    for (name, schema) in super::all() {
        assert!(!schema.is_null(), "{name} did not serialise");
        let text = serde_json::to_string_pretty(&schema).unwrap() + "\n";
        let path = dir.join(name);
        if bless {
            std::fs::write(&path, &text).unwrap();
        } else if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
            drifted.push(name);
        }
    }
    assert!(
        drifted.is_empty(),
        "schemas drifted from the Rust types: {drifted:?}; run `LASTMILE_BLESS=1 cargo test -p lastmile-events` and commit"
    );
}

#[test]
fn docs_json_contract_is_generated_from_the_types() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/json-contract.md");
    let text = super::contract_markdown();
    for needle in [
        "`class` | Class | yes",
        "`diagnoses`",
        "## `Remediation`",
        "| `provenance` | array of ValueOrigin |",
        "| `searched` | Searched |",
        "## `FamilySearch`",
        "`kind: limit_range_default`",
    ] {
        assert!(text.contains(needle), "{needle} missing from:\n{text}");
    }
    if std::env::var_os("LASTMILE_BLESS").is_some() {
        std::fs::write(&path, &text).unwrap();
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        checked_in == text,
        "docs/json-contract.md drifted from the types; run `LASTMILE_BLESS=1 cargo test -p lastmile-events` and commit"
    );
}
