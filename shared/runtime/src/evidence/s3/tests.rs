#![allow(clippy::unwrap_used)]

use super::*;
use clap::Parser;

#[derive(Debug, Parser)]
struct Cli {
    #[command(flatten)]
    s3: S3Config,
}

#[test]
fn flags_parse_and_validate() {
    let cli = Cli::try_parse_from([
        "x",
        "--s3-bucket",
        "evidence",
        "--s3-prefix",
        "lastmile/prod",
        "--s3-endpoint",
        "http://127.0.0.1:9000",
        "--s3-force-path-style",
    ])
    .unwrap();
    assert_eq!(cli.s3.bucket.as_deref(), Some("evidence"));
    assert!(cli.s3.force_path_style);
    assert_eq!(cli.s3.operation_timeout_secs, 30);
    cli.s3.validate().unwrap();

    for bad in [
        S3Config::default(),
        S3Config {
            bucket: Some("a/b".into()),
            ..S3Config::default()
        },
        S3Config {
            bucket: Some("b".into()),
            prefix: "/abs".into(),
            ..S3Config::default()
        },
        S3Config {
            bucket: Some("b".into()),
            prefix: "p/".into(),
            ..S3Config::default()
        },
        S3Config {
            bucket: Some("b".into()),
            endpoint: Some("127.0.0.1:9000".into()),
            ..S3Config::default()
        },
        S3Config {
            bucket: Some("b".into()),
            attempt_timeout_secs: 0,
            ..S3Config::default()
        },
    ] {
        assert!(
            matches!(bad.validate(), Err(EvidenceError::Rejected(_))),
            "{bad:?}"
        );
    }
}

#[test]
fn keys_get_the_prefix_and_urls_name_bucket_and_prefix() {
    let sdk = aws_config::SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .build();
    let cfg = S3Config {
        bucket: Some("ev".into()),
        prefix: "lm/prod".into(),
        ..S3Config::default()
    };
    let store = S3Store::from_sdk_config(&cfg, &sdk).unwrap();
    assert_eq!(store.url(), "s3://ev/lm/prod");
    assert_eq!(
        store.object_key("objects/sha256/ab").unwrap(),
        "lm/prod/objects/sha256/ab"
    );
    assert!(matches!(
        store.object_key("../x"),
        Err(EvidenceError::Rejected(_))
    ));
    let cfg = S3Config {
        bucket: Some("ev".into()),
        ..S3Config::default()
    };
    let store = S3Store::from_sdk_config(&cfg, &sdk).unwrap();
    assert_eq!(store.url(), "s3://ev");
    assert_eq!(store.object_key("m.json").unwrap(), "m.json");
}

#[tokio::test]
async fn an_sdk_failure_keeps_the_sdk_error_as_the_source() {
    let sdk = aws_config::SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .build();
    let cfg = S3Config {
        bucket: Some("ev".into()),
        endpoint: Some("http://127.0.0.1:1".into()),
        force_path_style: true,
        ..S3Config::default()
    };
    let store = S3Store::from_sdk_config(&cfg, &sdk).unwrap();
    let err = store.exists("objects/sha256/ab").await.unwrap_err();
    let detail = std::error::Error::source(&err).expect("the detail");
    assert_eq!(
        detail.to_string(),
        err.to_string().split_once(": ").unwrap().1
    );
    let sdk_error = detail.source().expect("the SDK error under the detail");
    assert!(
        sdk_error
            .downcast_ref::<SdkError<
                aws_sdk_s3::operation::head_object::HeadObjectError,
                aws_sdk_s3::config::http::HttpResponse,
            >>()
            .is_some(),
        "{sdk_error:?}"
    );
}
