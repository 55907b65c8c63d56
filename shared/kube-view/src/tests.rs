use super::*;
use k8s_openapi::ByteString;

#[test]
fn only_docker_config_keys_leave_a_secret() {
    let mut s = Secret {
        type_: Some("kubernetes.io/dockerconfigjson".into()),
        ..Default::default()
    };
    s.data = Some(
        [
            (".dockerconfigjson", "{}"),
            ("token", "not-for-lastmile"),
            (".dockercfg", "{}"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), ByteString(v.as_bytes().to_vec())))
        .collect(),
    );
    let p = pull_secret_of(s);
    assert_eq!(p.type_, "kubernetes.io/dockerconfigjson");
    assert_eq!(
        p.data.keys().collect::<Vec<_>>(),
        [".dockercfg", ".dockerconfigjson"]
    );
}

#[test]
fn names_that_are_not_object_names_are_never_requested() {
    for bad in [
        "",
        "a/b",
        "..",
        "-x",
        "Regcred",
        "x?watch=1",
        &"a".repeat(254),
    ] {
        assert!(!valid_name(bad), "{bad:?}");
    }
    for good in ["regcred", "my.registry-cred", "default", "a1"] {
        assert!(valid_name(good), "{good}");
    }
}

#[test]
fn api_statuses_map_to_read_answers() {
    let status = |code: u16, reason: &str| {
        kube::Error::Api(Box::new(kube::core::Status {
            code,
            reason: reason.into(),
            message: format!("secrets \"x\" is {reason}"),
            ..Default::default()
        }))
    };
    assert_eq!(
        classify::<()>(&status(404, "NotFound")),
        ClusterRead::NotFound
    );
    assert!(matches!(
        classify::<()>(&status(403, "Forbidden")),
        ClusterRead::Forbidden { detail } if detail.contains("403 Forbidden")
    ));
    assert!(matches!(
        classify::<()>(&status(401, "Unauthorized")),
        ClusterRead::Forbidden { .. }
    ));
    assert!(matches!(
        classify::<()>(&status(503, "ServiceUnavailable")),
        ClusterRead::Failed { .. }
    ));
}
