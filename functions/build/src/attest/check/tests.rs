use super::*;
use crate::attest::ci_env::CiRun;
use crate::attest::statement::{CollectInput, CollectedBinary};
use crate::buildinfo::BuildInfo;

const MODINFO: &str = "path\texample.com/app\nmod\texample.com/app\t(devel)\t\ndep\texample.com/greet\tv1.0.0\th1:AAAA=\nbuild\t-trimpath=true\nbuild\tGOOS=linux\n";

fn statement() -> Statement {
    Statement::build(&CollectInput {
        binaries: vec![CollectedBinary {
            name: "app".into(),
            sha256: "aa".repeat(32),
            info: BuildInfo::parse(MODINFO),
        }],
        image: None,
        go_sum_sha256: Some("bb".repeat(32)),
        go_env: Default::default(),
        ci: CiRun::default(),
        finished_on: "2026-12-05T00:00:00Z".into(),
    })
}

fn loaded(file: &str, sha: &str, modinfo: &str) -> Loaded {
    Loaded {
        file: file.into(),
        source: "ELF".into(),
        sha256: Some(sha.into()),
        size: None,
        encoding: None,
        info: BuildInfo::parse(modinfo),
    }
}

#[test]
fn the_attested_binary_passes_and_a_drifted_one_names_module_and_versions() {
    let s = statement();
    let (ok, bad) = check(
        &s,
        &[loaded("sha256:1:usr/bin/app", &"aa".repeat(32), MODINFO)],
    );
    assert_eq!((ok.len(), bad.len()), (1, 0));
    let drifted = MODINFO.replace("v1.0.0\th1:AAAA=", "v1.1.0\th1:BBBB=");
    let (ok, bad) = check(
        &s,
        &[loaded("sha256:1:usr/bin/app", &"cc".repeat(32), &drifted)],
    );
    assert!(ok.is_empty());
    let line = bad[0].summary();
    assert!(
        line.contains("example.com/greet") && line.contains("v1.0.0") && line.contains("v1.1.0"),
        "{line}"
    );
    // Missing from the image.
    let (_, bad) = check(&s, &[]);
    assert!(bad[0].summary().contains("not in the image"));
}

#[test]
fn an_unsigned_statement_is_refused_when_a_key_is_given() {
    let bytes = serde_json::to_vec(&statement()).unwrap();
    assert!(read(&bytes, None).is_ok_and(|(_, verified)| !verified));
    let key = p256::ecdsa::SigningKey::from_slice(&[3u8; 32]).unwrap();
    assert!(matches!(
        read(&bytes, Some(key.verifying_key())),
        Err(AttestationError::Unsigned)
    ));
    assert!(matches!(
        read(b"not json", None),
        Err(AttestationError::Unreadable(_))
    ));
}
