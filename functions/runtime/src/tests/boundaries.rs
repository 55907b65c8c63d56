//! What the function must leave alone (healthy pods, init containers, CI exit codes, pull
//! secrets) or never leak (env values, secrets in logs), and the shared compliance check.

use super::*;

#[test]
fn healthy_pods_and_init_containers_are_left_alone() {
    let healthy = state(
        json!({}),
        json!({"ready": true, "state": {"running": {"startedAt": "2026-03-03T09:00:05Z"}}}),
        &[],
    );
    assert!(diagnose(&healthy, &ClusterSnapshot::default()).is_empty());
    // An init container that crash-loops is the workload function's.
    let mut init = Incident::new(IncidentFamily::Init, pod_ref(), None, t0());
    init.text = Some("web-1  0/1  Init:CrashLoopBackOff  5  3m\nWarning  BackOff  kubelet  Back-off restarting failed container wait-db".into());
    assert!(diagnose(&init, &ClusterSnapshot::default()).is_empty());
    assert!(
        diagnose(
            &text("all good: 3/3 pods ready"),
            &ClusterSnapshot::default()
        )
        .is_empty()
    );
    // A CI step's exit code is not a container's.
    assert!(
        diagnose(
            &text("Error: deploy step 4/9 failed with exit code 1"),
            &ClusterSnapshot::default()
        )
        .is_empty()
    );
}

/// A missing Secret beside a failing pull is the pod's image pull secret (the image-pull
/// function's `image.auth`), not a missing env Secret.
/// The kubelet's success events share words with mount failures (`SuccessfulMountVolume`,
/// `MapVolume.MapDevice succeeded`): a volume that mounted is no mount failure.
#[test]
fn a_volume_that_mounted_is_no_mount_failure() {
    let pasted = "Events:\n  Type     Reason                 Age   From                Message\n  ----     ------                 ----  ----                -------\n  Warning  OutOfcpu               4m    kubelet, worker-2   Node didn't have enough resource: cpu, requested: 8000, used: 6500, capacity: 8000\n  Normal   SuccessfulMountVolume  4m    kubelet, worker-2   MapVolume.MapDevice succeeded for volume \"local-pv-3\" globalMapPath \"/var/lib/kubelet/plugins/kubernetes.io~local-volume/volumeDevices/local-pv-3\"\n  Normal   SuccessfulAttachVolume 5m    attachdetach-controller  AttachVolume.Attach succeeded for volume \"pvc-91c2\"";
    assert!(
        !diagnose(&text(pasted), &ClusterSnapshot::default())
            .iter()
            .any(|d| d.class.as_str() == "runtime.mount_failed"),
    );
}

#[test]
fn a_missing_pull_secret_is_left_to_the_image_pull_function() {
    let events = "Normal   Pulling  Pulling image \"keelhq/keel:latest\"\nWarning  Failed   Error: secret \"registry-pull-credentials\" not found\nNormal   BackOff  Back-off pulling image \"keelhq/keel:latest\"\nWarning  Failed   Error: ImagePullBackOff";
    let d = diagnose(&text(events), &ClusterSnapshot::default());
    assert!(
        d.iter().all(|d| d.class != "runtime.config_missing"),
        "{d:#?}"
    );
    let env = "Warning  Failed  Error: secret \"api-db\" not found\nWarning  Failed  Error: CreateContainerConfigError";
    let d = diagnose(&text(env), &ClusterSnapshot::default());
    assert_eq!(d[0].class, "runtime.config_missing");
}

#[test]
fn env_values_and_secrets_in_logs_never_reach_a_diagnosis() {
    let i = state(
        json!({"env": [{"name": "API_TOKEN", "value": "ghp_abcdefghijklmnopqrstuvwxyz0123456789"}]}),
        json!({"restartCount": 2, "state": {"waiting": {"reason": "CrashLoopBackOff"}},
            "lastState": {"terminated": {"exitCode": 1, "reason": "Error",
                "message": "panic: connect postgres://admin:s3cr3tPassw0rd@db:5432/shop failed"}}}),
        &[],
    );
    let d = diagnose(&i, &ClusterSnapshot::default());
    let all = serde_json::to_string(&d).unwrap();
    assert!(
        !all.contains("ghp_abcdef") && !all.contains("s3cr3tPassw0rd"),
        "{all}"
    );
    assert_eq!(d[0].class, "runtime.crashloop");
}

#[test]
fn runtime_passes_the_compliance_check() {
    let samples = vec![
        state(
            json!({"resources": {"limits": {"memory": "64Mi"}}}),
            json!({"restartCount": 3, "lastState": {"terminated": {"exitCode": 137, "reason": "OOMKilled"}}}),
            &[],
        ),
        text(
            "Warning  FailedMount  kubelet  MountVolume.SetUp failed for volume \"cfg\" : configmap \"app\" not found",
        ),
        text(&"Back-off restarting failed container; panic: boom\n".repeat(5000)),
    ];
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    rt.block_on(lastmile_contract::compliance::check(
        &FUNCTION,
        &samples,
        &Context::fixed(t0()),
    ));
}
