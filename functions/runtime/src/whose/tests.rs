//! Reports whose failing output is an init container's or a build tool's, in other words.

use chrono::{DateTime, Utc};
use lastmile_events::{ClusterSnapshot, Incident, IncidentFamily, ObjectRef};

use super::{compile_all, not_a_main_container};

fn text(t: &str) -> Incident {
    let t0: DateTime<Utc> = "2026-03-03T09:20:00Z".parse().unwrap();
    let mut i = Incident::new(IncidentFamily::Runtime, ObjectRef::default(), None, t0);
    i.text = Some(t.into());
    i
}

fn crashloop_confidence(t: &str) -> Option<f64> {
    crate::diagnose(&text(t), &ClusterSnapshot::default())
        .into_iter()
        .find(|d| d.class.as_str() == lastmile_events::Class::RUNTIME_CRASHLOOP)
        .map(|d| d.confidence)
}

#[test]
fn patterns_compile() {
    compile_all();
}

/// An init container's error lines, or a release tool's, give way; a main container's stay.
#[test]
fn an_init_containers_or_a_build_tools_errors_are_not_a_main_crash_loop() {
    for t in [
        "The pod is stuck at Init:CrashLoopBackOff. kubectl logs web-0 -c fix-perms:\nchown: /data: Permission denied",
        "Our vault-init container restarts every minute with: listen tcp :8200: bind: address already in use",
        "The initContainer that renders the config exits: missing environment variable DB_HOST",
        "goreleaser release --clean\n  • loading environment variables\n  ⨯ release failed after 0s error=missing GITHUB_TOKEN: missing environment variable",
        "The wait-for-redis container keeps restarting: Error: listen EADDRINUSE: address already in use :::6379",
        "It fails at the `init-schema` stage: permission denied on /var/lib/db",
        "Our Dockerfile copies the repo and the image build log shows: open /src/.env: permission denied",
        "    State:  Waiting\n      Reason:  CrashLoopBackOff\n      Message:  iptables-restore: line 4 failed (ISTIO_OUTPUT)",
        "##[error]Process completed with exit code 1.\nError: open /app/config.yaml: permission denied",
        // Named as charts and model servers name init containers, shared with the workload
        // function (`told::INIT_CONTAINER_NAME`).
        "kubectl logs search-0 -c install-plugins\n/tmp/scripts/install.sh: cd: line 2: can't cd to /opt/app/extensions: Permission denied",
        "kubectl logs triton-0-7f9 -c classifier-model-initializer\nFailed to create file system for \"s3://models/\": didn't find section in config file",
        "oc logs pg-0 -c volume-permissions\nchown: changing ownership of '/bitnami/postgresql/data': Operation not permitted",
    ] {
        assert!(not_a_main_container(&text(t)), "{t}");
        assert!(crashloop_confidence(t).is_none_or(|c| c <= 0.5), "{t}");
    }
    for t in [
        "The init container completed fine, but the app container keeps crashing: open /data/db.lock: permission denied",
        "Containers:\n  api:\n    State:  Waiting\n      Reason:  CrashLoopBackOff\n    Last State:  Terminated\n      Reason:  Error\nlisten tcp :8080: bind: address already in use",
        "The pod restarts: panic: missing environment variable DATABASE_URL",
        "After cloud-init finished, the api pod crash-loops: bind: address already in use",
    ] {
        assert!(!not_a_main_container(&text(t)), "{t}");
    }
}

/// A main program refusing to start on a kernel or host limit is the main container's crash
/// loop, even in a report routed as an init incident beside a sysctl init container.
#[test]
fn a_main_programs_kernel_limit_check_is_a_main_crash_loop() {
    for t in [
        "initContainers:\n- name: sysctl\n  command: [sysctl, -w, vm.max_map_count=262144]\nsysctl: error setting key 'vm.max_map_count': Read-only file system\nERROR: bootstrap checks failed: max virtual memory areas vm.max_map_count [65530] is too low",
        "The search cluster's data nodes never come up: memory locking requested for the process but memory is not locked. Our init container only runs sysctl.",
        "After the upgrade the node dies at start with max file descriptors [4096] for the process is too low, increase to at least [65535]; the init container that ran ulimit reported nothing.",
    ] {
        let mut i = text(t);
        i.family = IncidentFamily::Init;
        assert!(!not_a_main_container(&i), "{t}");
        let found = crate::diagnose(&i, &ClusterSnapshot::default());
        assert_eq!(
            found.first().map(|d| d.class.as_str()),
            Some(lastmile_events::Class::RUNTIME_CRASHLOOP),
            "{t}"
        );
    }
}

/// A `kubectl describe pod` of a Job's pod (`Controlled By: Job/…`, which intake reads as the
/// incident's owner) whose container has not restarted: its exit, with or without a
/// recognised cause line, is the Job's pod failing, weaker than the Job's own reading; a
/// ReplicaSet's pod, or a Job's pod restarting in place (restartPolicy OnFailure), is a crash
/// loop as before.
#[test]
fn a_described_job_pods_exit_is_no_crash_loop_of_its_own() {
    let confidence = |t: &str| {
        crate::diagnose(
            &lastmile_intake::incident_from_text(t),
            &ClusterSnapshot::default(),
        )
        .into_iter()
        .find(|d| d.class.as_str() == lastmile_events::Class::RUNTIME_CRASHLOOP)
        .map(|d| d.confidence)
    };
    let describe = |owner: &str, restarts: u32, log: &str| {
        format!(
            "Name:           apply-upgrade-7xk2p\nControlled By:  {owner}\nContainers:\n  upgrade:\n    State:          Terminated\n      Reason:       Error\n      Exit Code:    1\n    Restart Count:  {restarts}\n{log}"
        )
    };
    for log in ["", "Error: environment variable DATABASE_URL is not set\n"] {
        let job = describe("Job/apply-upgrade", 0, log);
        assert!(confidence(&job).is_some_and(|c| c <= 0.45), "{job}");
        let rs = describe("ReplicaSet/api-5f7c9d8b6", 0, log);
        assert!(confidence(&rs).is_some_and(|c| c > 0.6), "{rs}");
        let in_place = describe("Job/apply-upgrade", 5, log);
        assert!(confidence(&in_place).is_some_and(|c| c > 0.6), "{in_place}");
    }
}
