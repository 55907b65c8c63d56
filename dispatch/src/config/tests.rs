use super::*;

const KNOWN: &[&str] = &["pending", "image-pull", "workload", "build"];

#[test]
fn function_names_default_to_the_sam_names_and_can_be_overridden() {
    let config = LambdaConfig {
        functions: vec![
            "image-pull=arn:aws:lambda:eu-west-1:123456789012:function:pull:live".into(),
            " workload = wl ".into(),
        ],
        ..Default::default()
    };
    config.validate(KNOWN).unwrap();
    assert_eq!(config.lambda_name("pending"), "lastmile-fn-pending");
    assert_eq!(
        config.lambda_name("image-pull"),
        "arn:aws:lambda:eu-west-1:123456789012:function:pull:live"
    );
    assert_eq!(config.lambda_name("workload"), "wl");
}

#[test]
fn validation_names_the_flag() {
    let cases = [
        (vec!["pending"], "NAME=FUNCTION"),
        (vec!["pendin=x"], "unknown function"),
        (vec!["pending="], "NAME=FUNCTION"),
    ];
    for (functions, expected) in cases {
        let config = LambdaConfig {
            functions: functions.into_iter().map(str::to_owned).collect(),
            ..Default::default()
        };
        let err = config.validate(KNOWN).unwrap_err().to_string();
        assert!(
            err.contains("--lambda-function") && err.contains(expected),
            "{err}"
        );
    }
    let config = LambdaConfig {
        endpoint: Some("localhost:9001".into()),
        ..Default::default()
    };
    assert!(
        config
            .validate(KNOWN)
            .unwrap_err()
            .to_string()
            .contains("--lambda-endpoint")
    );
}
