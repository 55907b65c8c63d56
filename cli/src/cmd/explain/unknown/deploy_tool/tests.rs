use super::*;

#[test]
fn every_pattern_compiles() {
    for p in patterns() {
        LazyLock::force(p);
    }
}

#[test]
fn helm_wait_timeouts_name_the_release_and_namespace() {
    let text = "helm upgrade --install web ./chart -n shop --wait --timeout 5m\nRelease \"web\" does not exist. Installing it now.\nError: INSTALLATION FAILED: timed out waiting for the condition";
    assert_eq!(
        gave_up(text),
        Some(GaveUp::Helm {
            release: Some("web".into()),
            namespace: Some("shop".into()),
            hook: None
        })
    );
    let advice = gave_up(text).unwrap().settle();
    assert!(
        advice.contains("kubectl describe pods -n shop -l app.kubernetes.io/instance=web"),
        "{advice}"
    );
    // Helm 3.x's newer wording and an upgrade with only the error line.
    for text in [
        "Error: UPGRADE FAILED: context deadline exceeded",
        "Error: UPGRADE FAILED: resource not ready, name: api, kind: Deployment, status: InProgress",
    ] {
        assert!(
            matches!(gave_up(text), Some(GaveUp::Helm { release: None, .. })),
            "{text}"
        );
    }
}

#[test]
fn failed_hooks_point_at_the_hook_job() {
    for (text, phase) in [
        (
            "Error: failed post-install: timed out waiting for the condition",
            "post-install",
        ),
        (
            "Error: UPGRADE FAILED: pre-upgrade hooks failed: timed out waiting for the condition",
            "pre-upgrade",
        ),
    ] {
        let g = gave_up(text).unwrap();
        assert!(
            matches!(&g, GaveUp::Helm { hook: Some(h), .. } if h == phase),
            "{text}: {g:?}"
        );
        assert!(g.settle().contains("kubectl describe jobs"), "{text}");
    }
}

#[test]
fn argo_cd_waits_name_the_app() {
    let text = "$ argocd app wait payments --health --timeout 300\nFATA[0300] timed out (300s) waiting for app \"payments\"";
    let g = gave_up(text).unwrap();
    assert_eq!(
        g,
        GaveUp::ArgoCd {
            app: Some("payments".into())
        }
    );
    assert!(g.settle().contains("argocd app get payments"));
}

#[test]
fn other_text_is_not_a_deploy_tool() {
    for text in [
        "helm repo add bitnami https://charts.bitnami.com/bitnami",
        "Error: INSTALLATION FAILED: cannot re-use a name that is still in use",
        "2026-03-02T10:14:01Z INFO orders starting",
    ] {
        assert_eq!(gave_up(text), None, "{text}");
    }
}
