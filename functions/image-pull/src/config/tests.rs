use super::*;

#[test]
fn defaults_values_and_errors() {
    let c = ImagePullConfig::from_settings(&Settings::new()).unwrap();
    assert!(c.checks.signature.is_empty());
    assert_eq!(c.checks.base_os.max_bytes, DEFAULT_MAX_BYTES);
    let s = Settings::new()
        .with(BASE_OS_MAX_BYTES, "0")
        .with(BASE_OS_TIMEOUT_SECS, "3");
    let c = ImagePullConfig::from_settings(&s).unwrap();
    assert_eq!(c.checks.base_os.max_bytes, 0);
    assert_eq!(c.checks.base_os.time_budget, Duration::from_secs(3));
    let bad = Settings::new().with(BASE_OS_MAX_BYTES, "64MiB");
    assert!(
        ImagePullConfig::from_settings(&bad)
            .unwrap_err()
            .to_string()
            .contains(BASE_OS_MAX_BYTES)
    );
    let missing = Settings::new().with(SIGNATURE_KEYS, "ghcr.io/**=/nonexistent/key.pem");
    let err = ImagePullConfig::from_settings(&missing)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("/nonexistent/key.pem") && err.contains(SIGNATURE_KEYS),
        "{err}"
    );
}

#[test]
fn installed_configuration_reaches_the_function() {
    let mut s = Settings::new().with(BASE_OS_MAX_BYTES, "7");
    ImagePullConfig::install(&mut s).unwrap();
    let ctx = Context::offline().with_settings(s);
    assert_eq!(
        ImagePullConfig::of(&ctx).unwrap().checks.base_os.max_bytes,
        7
    );
    let plain = Context::offline();
    assert_eq!(
        ImagePullConfig::of(&plain)
            .unwrap()
            .checks
            .base_os
            .max_bytes,
        DEFAULT_MAX_BYTES
    );
    let not_installed =
        Context::offline().with_settings(Settings::new().with(SIGNATURE_KEYS, "/no/key.pem"));
    assert!(ImagePullConfig::of(&not_installed).is_err());
}
