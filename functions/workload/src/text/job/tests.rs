//! Job rules on wordings other than the ones they were first written for.

use lastmile_events::Class;

use crate::text::tests::{assert_absent, assert_first, classes};

/// With `backoffLimit: 0` one failure told in words (an exit code, "fails", "no retry") ends
/// the Job.
#[test]
fn one_failure_of_a_job_that_allows_no_retry_is_its_backoff_limit() {
    assert_first(
        Class::JobBackoffLimit,
        &[
            "Our nightly import CronJob sets backoffLimit: 0. Last night the container exited with code 137 and nothing ran again until the next schedule.",
            "spec:\n  backoffLimit: 0\n  template:\n    spec:\n      restartPolicy: Never\n\nThe seed job failed once on a flaky DNS lookup and was never retried.",
            "Our data-export Job has a backoff limit of 0, and its pod died on an OOM kill at 3am.",
            "kubectl create job reindex --image=tools:1.2 -- /reindex.sh; with --backoff-limit=0 there is no automatic retry when the script exits non-zero.",
        ],
    );
    // A backoffLimit of 0 only shown in a manifest, with nothing failing, is no finding.
    assert!(
        !classes("apiVersion: batch/v1\nkind: Job\nspec:\n  backoffLimit: 0\n")
            .contains(&Class::JobBackoffLimit)
    );
}

/// A Job's pods left with some containers ready and not all (`1/2`), said to stay or pile
/// up: a sidecar outlives the main container, so the Job never completes.
#[test]
fn partly_ready_job_pods_that_pile_up_keep_the_job_active() {
    assert_first(
        Class::JobStuckActive,
        &[
            "kubectl get pods\nbackup-28391230-abcde   1/2   NotReady   0   3h\nbackup-28391290-fghij   1/2   NotReady   0   2h\nThe backup CronJob's pods accumulate every hour.",
            "After the batch job finishes its work the pod stays NotReady with 1 of 2 containers running, so the CronJob never starts the next run.",
            "Each run of the report job leaves a pod that shows 1/2 ready and never gets removed; the vpn client container in it keeps its tunnel open.",
        ],
    );
    // All containers ready is no lingering sidecar.
    assert!(
        !classes("The job pod shows 2/2 ready and the pods pile up in the list.")
            .contains(&Class::JobStuckActive)
    );
}

/// Replicas of a distributed job (training operators, MPI, Spark) that stay up after the
/// work or the other replicas finished, told for other operators and in other words.
#[test]
fn replicas_that_outlive_a_distributed_jobs_work_keep_it_active() {
    assert_first(
        Class::JobStuckActive,
        &[
            "Our PyTorchJob trains to the last epoch and the master pod is Completed, but the worker replicas keep running and the job never becomes Succeeded.",
            "MPIJob: the launcher finished with exit code 0, yet the worker pods remain running forever.",
            "The distributed training run saved its final checkpoint; the parameter servers never shut down so the job is still Running the next day.",
            "kubectl get pods\nNAME                 READY   STATUS      RESTARTS   AGE\ntrain-chief-0        0/1     Completed   0          3h\ntrain-ps-0           1/1     Running     0          3h\n\nThe TFJob status is still Running.",
        ],
    );
    // A distributed job whose replicas are all running while it trains is no finding.
    assert!(
        !classes("The TFJob has 2 workers and 1 ps running; training is at step 4000 of 10000.")
            .contains(&Class::JobStuckActive)
    );
    // A replica still in Init has not started the work: the others wait on it.
    assert_first(
        Class::InitBlocked,
        &[
            "The PyTorchJob master never gets to complete its init.\nNAME                READY   STATUS     RESTARTS   AGE\nresnet-master-0     0/1     Init:0/1   0          20m\nresnet-worker-0     1/1     Running    0          20m",
        ],
    );
}

/// A Job shown or said to have ended Failed (its retries spent), in other listings and words.
#[test]
fn a_job_shown_failed_has_spent_its_retries() {
    assert_first(
        Class::JobBackoffLimit,
        &[
            "kubectl get jobs -n backup\nNAME              STATUS   COMPLETIONS   DURATION   AGE\nnightly-dump      Failed   0/1           2h         2h\n\nIts pod shows Error.",
            "The seed Job went into a Failed state after the pod kept crashing on a missing secret.",
            "our db-migrate job is marked as `Failed` status and the release stops there",
        ],
    );
    // A Job's row that completed is nothing.
    assert!(
        !classes("job.batch/nightly-dump   Complete   1/1   5s   5m")
            .contains(&Class::JobBackoffLimit)
    );
}

/// A Job's main work said done while a sidecar (mesh proxy, log shipper) is said to be up:
/// the pod keeps running, so the Job never completes.
#[test]
fn a_sidecar_up_after_the_main_work_is_done_keeps_the_job_active() {
    assert_first(
        Class::JobStuckActive,
        &[
            "Our nightly export job: the exporter container finished, but the fluent-bit container is still up and the pod never goes away.",
            "The migration Job's main container exited with code 0 while the linkerd-proxy stays alive, so kubectl wait --for=condition=complete times out.",
            "CronJob run done; the log shipper keeps the pod alive for hours afterwards.",
            "The batch job completed its work yet the envoy sidecar continues to run.",
        ],
    );
    // A proxy running in a Deployment is no Job.
    assert!(
        !classes("The web deployment rolled out and completed; the envoy sidecar is running fine.")
            .contains(&Class::JobStuckActive)
    );
}

/// A deployer (a GitOps sync, a release's hooks) waiting on a hook Job that never completes.
#[test]
fn a_deployer_waiting_on_a_hook_job_that_never_completes_is_stuck_active() {
    assert_first(
        Class::JobStuckActive,
        &[
            "Sync has shown 'waiting for completion of hook batch/Job/db-migrate' for two hours.",
            "Our release waits on the pre-upgrade hook job and the rollout never moves on.",
            "The PostSync hook job never completes, although its pod printed 'all done'.",
            "helmfile apply: the post-install hook hangs until we kill it.",
            // Argo CD deletes hook resources once the hook succeeded; it waits for that.
            "The app has been Syncing since this morning: waiting for deletion of hook batch/Job/schema-upgrade",
            "operation is running: waiting for deletion of /ConfigMap/kafka-topics and 2 more hooks",
        ],
    );
}

/// A deadline only asked for (a feature request, a proposal) beside a Job said to run on has
/// not fired: the Job is stuck active, not past its deadline.
#[test]
fn a_deadline_only_asked_for_beside_a_job_that_runs_on_is_stuck_active() {
    assert_first(
        Class::JobStuckActive,
        &[
            "Feature request: expose activeDeadlineSeconds on the report jobs. Today a report job hangs forever when the upstream API stalls.",
            "The restore job can stay running indefinitely; we would like to set activeDeadlineSeconds through the CRD.",
            "Please add support for activeDeadlineSeconds: the sync job never finishes when the bucket is unreachable.",
        ],
    );
    // A deadline that fired is still the deadline.
    assert_eq!(
        classes("Job was active longer than specified deadline (activeDeadlineSeconds: 600)")
            .first(),
        Some(&Class::JobDeadlineExceeded)
    );
}

/// Jobs said not to get their completion recorded ("aren't being marked as succeeded",
/// "was not marked Complete"): they stay active. Jobs said to be marked so are done.
#[test]
fn jobs_said_not_to_be_marked_successful_are_stuck_active() {
    assert_first(
        Class::JobStuckActive,
        &[
            "Since we enabled mesh injection our CronJobs are not being marked as succeeded; the pods show the task container terminated with exit code 0.",
            "The backup job wasn't marked `Complete` even though the script printed its final line.",
        ],
    );
    assert!(
        !classes("The reindex jobs are marked as successful after ten minutes.")
            .contains(&Class::JobStuckActive)
    );
}

/// The Job's pod said to stay up after the work is done (a proxy or agent added to it keeps
/// it alive); a pod said to stay up until the work is done is just running.
#[test]
fn a_job_pod_said_to_stay_up_after_the_work_is_done_is_stuck_active() {
    assert_first(
        Class::JobStuckActive,
        &[
            "We injected the vault agent into the export job. Now the pod keeps running even after the export has finished.",
            "With the auth proxy in the backup CronJob the pod never terminates once pg_dump completes.",
        ],
    );
    assert!(
        !classes("The job's pod stays up until the export is done, then exits.")
            .contains(&Class::JobStuckActive)
    );
}

/// A Job said in words to have used up its retries (attempts run out, retries exhausted, the
/// backoff limit hit, no more pods made): the controller stopped at backoffLimit. An HTTP
/// client's `Max retries exceeded with url`, or retries that are no Job's, are not.
#[test]
fn a_job_said_to_have_spent_its_retries_hit_its_backoff_limit() {
    assert_first(
        Class::JobBackoffLimit,
        &[
            "The db-migrate Job ran out of attempts while the database was still down.",
            "Our report CronJob's retries were exhausted before the API came back up.",
            "Once the job hit its backoff limit it stopped creating new pods, so nothing was imported.",
        ],
    );
    assert_absent(
        Class::JobBackoffLimit,
        &[
            "the sync job logs: HTTPSConnectionPool(host='api', port=443): Max retries exceeded with url: /v1/items",
            "The deployment reached the maximum retries of its progress check.",
        ],
    );
}

/// A sidecar told to hold the Job's pod open by itself ("won't shut down", "keeps the pod
/// from completing", a side-car "stuck running" after the task): the Job never completes. A
/// sidecar that does not stop in a Deployment, or one that stopped, is not it.
#[test]
fn a_sidecar_said_to_hold_the_job_pod_open_keeps_the_job_active() {
    assert_first(
        Class::JobStuckActive,
        &[
            "Our nightly report CronJob never finishes: the linkerd proxy won't shut down once the report is written.",
            "In the migration job the log-shipper side-car keeps the pod from completing.",
            "The export job's script exits 0 after a minute, but the vault agent is stuck running, so the pod shows 1/2 forever.",
        ],
    );
    assert_absent(
        Class::JobStuckActive,
        &[
            "The web Deployment's envoy sidecar does not stop gracefully during rollouts.",
            "The cleanup job finished and its sidecar exited with it.",
        ],
    );
}

/// A Job (or a job operator's job) whose failing pods are retried past a backoff limit said
/// to be ignored: the retries are the finding. A backoff limit only named, or a client's
/// backoff, is not it.
#[test]
fn a_backoff_limit_said_to_be_ignored_is_the_jobs_retries() {
    assert_first(
        Class::JobBackoffLimit,
        &[
            "Our MPIJob launcher keeps crashing with exit code 1 and the operator recreates it over and over; backoff_limit: 3 is not respected.",
            "TFJob with restartPolicy OnFailure: the failed worker restarts well beyond the configured backoffLimit of 2.",
        ],
    );
    assert_absent(
        Class::JobBackoffLimit,
        &[
            "apiVersion: batch/v1\nkind: Job\nspec:\n  backoffLimit: 4\n",
            "The job's HTTP client ignores the backoff and hammers the API.",
        ],
    );
}

/// A run on Kubernetes stopped by its own time limit, told by other engines and in words:
/// an engine's run-timeout reason, "failed to finish within", a configured limit said to
/// be exceeded by a run whose pods waited. A limit only configured, or a client's timeout,
/// is not one.
#[test]
fn a_run_stopped_by_its_own_time_limit_is_a_deadline() {
    assert_first(
        Class::JobDeadlineExceeded,
        &[
            "STATUS: Failed(TaskRunTimeout) after 1h0m0s; the step container was still building.",
            "workflow nightly-etl: step transform failed to finish within 45m and was terminated.",
            "Our Argo workflow has a deadline of 2h, and because its pods sat Pending on the GPU pool the run exceeded the deadline before any step started.",
        ],
    );
    for text in [
        "The pipeline timeout is set to 1h; runs usually take 20 minutes and pass.",
        "The HTTP client timeout is 30s, so the call failed after the API exceeded its rate limit.",
    ] {
        assert!(
            !classes(text).contains(&Class::JobDeadlineExceeded),
            "{text}"
        );
    }
}

/// A Job said to stay active while its pod waits in a reason that never fails (a pull
/// backing off, a container config that cannot be built): the Job is stuck, not failed. A
/// Deployment's pod in the same state, or a Job that did fail, is not this.
#[test]
fn a_job_kept_active_by_a_pod_that_never_starts_is_stuck_active() {
    assert_first(
        Class::JobStuckActive,
        &[
            "Our CronJob's run is still running since Friday; its pod shows ErrImagePull because the tag was never pushed.",
            "kubectl get pods shows the migration pod in CreateContainerConfigError (a missing secret key), and the job never completes.",
        ],
    );
    for text in [
        "The web Deployment's pods sit in ImagePullBackOff after the registry move.",
        "The job failed with BackoffLimitExceeded; its last pod had exited 1.",
    ] {
        assert_ne!(
            classes(text).first(),
            Some(&Class::JobStuckActive),
            "{text}"
        );
    }
}

/// A sidecar told to outlive the work in the forms reports use: running forever, in a
/// running state, never completing, an injector's container; and job pods said not to
/// terminate once the main container exits.
#[test]
fn sidecars_and_pods_told_to_outlive_the_work_keep_the_job_active() {
    assert_first(
        Class::JobStuckActive,
        &[
            "Our report Job's main container has completed, but the mesh proxy runs forever next to it.",
            "The export job finished its work; the vault-agent is still in running state so the hook never succeeds.",
            "With the secrets injector on our batch jobs, the injector container never completes and the pod stays up.",
            "Pods created by our Jobs are not terminating once the main container exits.",
        ],
    );
    // A proxy of a Deployment running forever is how it should be.
    assert!(
        !classes("The gateway deployment is healthy and its proxy runs forever, as designed.")
            .contains(&Class::JobStuckActive)
    );
}

/// Spent retries told in words: the backoff limit "exceeds" or is hit, many pods in Error,
/// new pods that keep being created, a job that fails with an error.
#[test]
fn retries_told_in_words_are_the_backoff_limit() {
    assert_first(
        Class::JobBackoffLimit,
        &[
            "The chart's post-install job sometimes fails the install because its BackOffLimit exceeds before the database is up.",
            "Our seed job hit its backoff limit after the third attempt.",
            "job-controller  Job has reached the specified backoff limit",
            "the migration job: backoff limit exceeded",
            "When the target is down the sync job retries and leaves many Error pods behind.",
            "The cron job's command fails and new pods keep being created every minute.",
            "Our post-install hook job keeps creating new pod and keeps failing until the install times out.",
            "The config import job fails with error `Error: Unable to access jarfile /opt/app/app.jar`",
        ],
    );
    // A Job that cannot start its pod has not spent retries.
    assert!(
        !classes("The job fails to start: its pod is Pending on a missing node selector.")
            .contains(&Class::JobBackoffLimit)
    );
}

/// Helm's own debug output (its command line with `--timeout`, `with timeout of`, client-go's
/// `timed out waiting for the condition`) is the deployer waiting, not an init container's
/// loop: a hook Job shown active until the timeout is stuck active.
#[test]
fn helms_own_wait_lines_are_no_init_containers_loop() {
    let t = "helm upgrade --install billing ./chart --debug --timeout 5m0s\nclient.go:477: [debug] Watching for changes to Job billing-migrate with timeout of 5m0s\nclient.go:505: [debug] Add/Modify event for billing-migrate: ADDED\nclient.go:544: [debug] billing-migrate: Jobs active: 1, jobs failed: 0, jobs succeeded: 0\nError: UPGRADE FAILED: pre-upgrade hooks failed: timed out waiting for the condition\nhelm.go:84: [debug] pre-upgrade hooks failed: timed out waiting for the condition";
    let found = classes(t);
    assert_eq!(found.first(), Some(&Class::JobStuckActive), "{found:?}");
    assert!(!found.contains(&Class::InitBlocked), "{found:?}");
}

/// A deadline said not to have fired ("did not take effect", "is not respected") left the
/// run active; the API server's list of a pod's mutable fields (which names
/// `spec.activeDeadlineSeconds`) says nothing of a deadline.
#[test]
fn a_deadline_that_did_not_fire_or_is_only_listed_by_the_api_is_no_deadline_exceeded() {
    assert_first(
        Class::JobStuckActive,
        &[
            "activeDeadlineSeconds is not respected by our batch controller: the pods from yesterday are still there.",
            "Bug: the Job's activeDeadlineSeconds doesn't work when set to 600, the pod runs for hours",
        ],
    );
    assert_absent(
        Class::JobDeadlineExceeded,
        &[
            "kubectl edit pod nightly-29710115-x7k2p\nThe Pod \"nightly-29710115-x7k2p\" is invalid: spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`, `spec.initContainers[*].image`, `spec.activeDeadlineSeconds`, `spec.tolerations` (only additions to existing tolerations)",
        ],
    );
}

/// A job shown or told to stay suspended (a JobSet's `SUSPENDED true`, "the job remains
/// suspended") creates no pods: it stays active. A resumed one, or a table saying `false`,
/// is no finding.
#[test]
fn a_job_left_suspended_stays_active() {
    assert_first(
        Class::JobStuckActive,
        &[
            "$ kubectl get jobset\nNAME              RESTARTS   COMPLETED   SUSPENDED   AGE\ntrain-x7k2p                              true        4m",
            "After the upgrade every RayJob we submit is left suspended and no pod is created.",
            "The Kueue admission check fails, so the job remains suspended indefinitely.",
        ],
    );
    assert_absent(
        Class::JobStuckActive,
        &[
            "$ kubectl get jobset\nNAME              RESTARTS   COMPLETED   SUSPENDED   AGE\ntrain-x7k2p                              false       4m",
            "We suspended the account of the job's owner last week.",
        ],
    );
}

/// A Job's pod by its name, including a chart's hook named for its Helm hook
/// (`…-post-install-…-x7k2p`), whose log ends with an error line, also when `stern` or
/// `kubectl logs --prefix` put the pod's name before every line: the Job's pods fail.
#[test]
fn a_job_pods_fatal_line_counts_behind_a_log_prefix_and_for_named_hooks() {
    assert_first(
        Class::JobBackoffLimit,
        &[
            "reports-cleaner-27857650-rgh24 Error: unknown flag: --es.num-replicas\nreports-cleaner-27857650-rgh24 Usage:",
            "[pod/reports-cleaner-27857650-rgh24/cleaner] Error: unknown flag: --days",
            "kubectl logs -n mesh mesh-security-post-install-1.4.2-8f6fn\n+ kubectl rollout status deployment galley\nError from server (Forbidden): deployments.apps \"galley\" is forbidden: User \"system:serviceaccount:mesh:post-install\" cannot get deployments.apps in the namespace \"mesh\"",
        ],
    );
}

/// kube-prometheus' alerts on a Job: active past the threshold (`KubeJobNotCompleted`, the
/// older `KubeJobCompletion`, or their annotation) is stuck active, with conviction; failed
/// (`KubeJobFailed`) is the Job failing.
#[test]
fn kube_prometheus_job_alerts_name_their_state() {
    assert_first(
        Class::JobStuckActive,
        &[
            "[FIRING:1] KubeJobNotCompleted (reports/nightly-rollup-29718600 kube-prometheus-stack)",
            "alertname: KubeJobCompletion\nseverity: warning\njob_name: etl-sync-2817",
            "description: Job billing/invoice-export-29443596 is taking more than 12h 0m 0s to complete.",
            "summary: Job did not complete in time",
        ],
    );
    assert_first(
        Class::JobBackoffLimit,
        &[
            "[FIRING:1] KubeJobFailed: Job backups/pg-dump-29718600 failed to complete. Removing failed job after investigation should clear this alert.",
        ],
    );
}

/// A `kubectl describe pod` of a Job's pod (`Controlled By: Job/…`, which intake reads as the
/// incident's owner) whose container exited non-zero is the Job's pod failing; the same
/// describe of a ReplicaSet's pod is not.
#[test]
fn a_described_job_pod_that_exited_non_zero_is_the_jobs_pod_failing() {
    let describe = |owner: &str| {
        format!(
            "Name:           nightly-report-29718600-7xk2p\nNamespace:      reports\nControlled By:  {owner}\nContainers:\n  report:\n    State:          Terminated\n      Reason:       Error\n      Exit Code:    2\n    Ready:          False\n    Restart Count:  0\n"
        )
    };
    let classes = |t: &str| {
        let mut ds = crate::text::diagnose(&lastmile_intake::incident_from_text(t));
        ds.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
        ds.into_iter().map(|d| d.class).collect::<Vec<_>>()
    };
    let job = classes(&describe("Job/nightly-report-29718600"));
    assert_eq!(job.first(), Some(&Class::JobBackoffLimit), "{job:?}");
    let rs = classes(&describe("ReplicaSet/report-api-5f7c9d8b6"));
    assert!(!rs.contains(&Class::JobBackoffLimit), "{rs:?}");
}
