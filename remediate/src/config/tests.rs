use super::*;
use crate::allow::Change;
use clap::Parser;

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    config: RemediateConfig,
}

#[test]
fn flags_and_file_add_up() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("remediate.yaml");
    std::fs::write(
            &path,
            "# what infra/remediate/config.yaml documents\nidentity: system:serviceaccount:lastmile:lastmile-remediate\nallow:\n  - batch=job.ttl-seconds-after-finished\n",
        )
        .unwrap();
    let cli = Cli::parse_from([
        "x",
        "--allow",
        "ci=job.suspend,job.active-deadline-seconds:3600",
        "--config",
        path.to_str().unwrap(),
    ]);
    let s = cli.config.settings().unwrap();
    assert_eq!(s.allow.in_namespace("batch"), [Change::JobTtl]);
    assert_eq!(s.allow.in_namespace("ci").len(), 2);
    assert_eq!(
        s.identity,
        "system:serviceaccount:lastmile:lastmile-remediate"
    );
    let spec = cli.config.consumer_spec(&HostOptions::default());
    assert_eq!(spec.subjects, ["lastmile.remediation.>"]);
    assert_eq!(spec.durable, "remediate");
}

#[test]
fn the_documented_example_config_parses() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../infra/remediate/config.yaml");
    let file = FileConfig::read(&path).unwrap();
    Allowlist::parse(&file.allow).unwrap();
}

#[test]
fn unknown_keys_and_bad_entries_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.yaml");
    std::fs::write(&path, "allowed: [ci=job.suspend]\n").unwrap();
    let cli = Cli::parse_from(["x", "--config", path.to_str().unwrap()]);
    assert!(matches!(
        cli.config.settings(),
        Err(ConfigError::File { .. })
    ));
    let cli = Cli::parse_from(["x", "--allow", "ci=job.everything"]);
    assert!(matches!(cli.config.settings(), Err(ConfigError::Allow(_))));
    let off = Cli::parse_from(["x"]);
    assert!(off.config.settings().unwrap().allow.is_empty());
}
