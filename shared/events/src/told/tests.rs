use super::{host_limit_refused, job_failed, pod_rows, signature_verifier_named};

#[test]
fn bootstrap_checks_and_limits_below_the_minimum_are_refusals() {
    for text in [
        "ERROR: [1] bootstrap checks failed\n[1]: max virtual memory areas vm.max_map_count [65530] is too low, increase to at least [262144]",
        "bootstrap check failure [1] of [2]: max file descriptors [4096] for elasticsearch process is too low, increase to at least [65535]",
        "memory locking requested for elasticsearch process but memory is not locked",
        "WARNING: net.core.somaxconn must be at least 1024 for the broker to start",
    ] {
        assert!(host_limit_refused(text), "{text}");
    }
}

#[test]
fn a_denied_sysctl_step_or_a_limit_that_was_met_is_not_a_refusal() {
    for text in [
        "sysctl: error setting key 'vm.max_map_count': Read-only file system",
        "vm.max_map_count is 262144, fine",
        "Back-off restarting failed container app in pod api-0",
    ] {
        assert!(!host_limit_refused(text), "{text}");
    }
}

#[test]
fn signature_verifiers_are_known_by_name_whatever_their_message() {
    for text in [
        "admission webhook \"policy.sigstore.dev\" denied the request: validation failed:",
        "admission webhook \"Cosigned.Sigstore.dev\" denied the request",
        "Error creating: admission webhook \"connaisseur-svc.connaisseur.svc\" denied the request",
        "Denied by Binary Authorization default admission rule",
    ] {
        assert!(signature_verifier_named(text), "{text}");
    }
    for text in [
        "admission webhook \"validate.kyverno.svc-fail\" denied the request: require-requests",
        "admission webhook \"validation.gatekeeper.sh\" denied the request: [k8sallowedrepos]",
        "x509: certificate signed by unknown authority",
        // Portieris also allows or denies repositories: its name alone says no signature.
        "admission webhook \"trust.hooks.securityenforcement.admission.cloud.ibm.com\" denied the request: Deny \"icr.io/acme/app:1\", no valid ImagePolicy rule",
    ] {
        assert!(!signature_verifier_named(text), "{text}");
    }
}

#[test]
fn a_job_told_to_fail_by_its_controller_or_in_words() {
    for text in [
        "Warning  BackoffLimitExceeded  job-controller  Job has reached the specified backoff limit",
        "Error: UPGRADE FAILED: pre-upgrade hooks failed: job failed: BackoffLimitExceeded",
        "the backup job fails every night with the error below",
        "we hit the backoff limit after 6 tries",
        "the submitter Kubernetes Job may fail because the head service is gone",
        "one submitter Job fails among the 25 runs",
        "the launcher job will fail as it exhausts all retry attempts",
        "helm-install-traefik job crashed with error log: INSTALLATION FAILED",
        "the seed job errored on the second run",
        "The nightly cleanup CronJob in staging fails each run since the upgrade",
        "kube_job_status_failed{namespace=\"ops\",job_name=\"report-29710115\"} 2",
        "prod shows `kube_job_status_failed=1` for the report job",
    ] {
        assert!(job_failed(text), "{text}");
    }
    for text in [
        "the job fails to start because the image cannot be pulled",
        "Job is still running after 3 hours",
        "the job can fail to start when the quota is full",
        "the registry client exhausts its retries and the pull fails",
        "Back-off restarting failed container",
        "the pod crashed while the job was still queued",
        "the CronJob on staging fails to start: no schedule matched",
        "kube_job_status_failed{job_name=\"report\"} 0",
    ] {
        assert!(!job_failed(text), "{text}");
    }
}

#[test]
fn pod_rows_with_and_without_the_namespace_column() {
    let table = "NAMESPACE   NAME                      READY   STATUS             RESTARTS      AGE\n\
        shop        api-7d9f8b6c4-kq2lm       0/1     CrashLoopBackOff   6 (40s ago)   7m\n\
        pod/migrate-x7k2p   1/2   NotReady   0   9m\n\
        postgres-0   1/1   Running   0   7m";
    let rows: Vec<_> = pod_rows(table).collect();
    assert_eq!(rows.len(), 3, "{rows:?}");
    assert_eq!(
        (rows[0].name, rows[0].status, rows[0].restarts),
        ("api-7d9f8b6c4-kq2lm", "CrashLoopBackOff", 6)
    );
    assert_eq!(
        (rows[1].name, rows[1].ready, rows[1].containers),
        ("migrate-x7k2p", 1, 2)
    );
    assert_eq!(rows[1].generated_prefix(), Some("migrate"));
    assert_eq!(rows[2].generated_prefix(), None);
    assert!(rows[0].line.starts_with("shop"), "{}", rows[0].line);
    assert_eq!(
        pod_rows("Back-off restarting failed container 1/2 times").count(),
        0
    );
}
