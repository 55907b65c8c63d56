#![allow(clippy::unwrap_used)]

use lastmile_events::{Class, Diagnosis, Incident, IncidentFamily, ObjectRef};

use super::*;

/// What the text rules say about `text` pasted for a pod.
pub(super) fn diagnose_text(text: &str) -> Vec<Diagnosis> {
    let subject = ObjectRef {
        kind: "Pod".into(),
        namespace: Some("app".into()),
        name: "web-0".into(),
        ..Default::default()
    };
    let mut inc = Incident::new(
        IncidentFamily::Init,
        subject,
        None,
        chrono::DateTime::<chrono::Utc>::UNIX_EPOCH,
    );
    inc.text = Some(text.to_owned());
    diagnose(&inc)
}

/// The classes the text rules find in `text`, most confident first.
pub(super) fn classes(text: &str) -> Vec<Class> {
    let mut ds = diagnose_text(text);
    ds.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
    ds.into_iter().map(|d| d.class).collect()
}

/// Asserts that the text rules rank `class` first for every one of `texts`.
pub(super) fn assert_first(class: Class, texts: &[&str]) {
    for text in texts {
        assert_eq!(classes(text).first(), Some(&class), "{text}");
    }
}

/// Asserts that the text rules find no `class` in any of `texts`.
pub(super) fn assert_absent(class: Class, texts: &[&str]) {
    for text in texts {
        assert!(!classes(text).contains(&class), "{text}");
    }
}

#[test]
fn every_pattern_compiles() {
    for p in all_patterns() {
        LazyLock::force(p);
    }
}

/// An init container's own log polling a database or Service that never answers is as good
/// a signal as the pod status, with or without the word "init".
#[test]
fn a_wait_loop_in_a_log_is_an_init_wait() {
    let pg = "kubectl logs clair-7f -c check-db-ready\npostgres:5432 - no response\nwaiting for database\npostgres:5432 - no response\nwaiting for database";
    assert_eq!(classes(pg).first(), Some(&Class::InitBlocked));
    let migrate = "Init:0/1\nwaiting for migrations to finish, retrying in 5s\nwaiting for migrations to finish, retrying in 5s";
    assert_eq!(classes(migrate).first(), Some(&Class::InitBlocked));
    // One line is a report, not a loop; a process that exits is a crash, not a wait.
    assert!(classes("connection refused").is_empty());
    let crash = "dial tcp 10.0.0.5:5432: connection refused\ndial tcp 10.0.0.5:5432: connection refused\nShutting down gracefully...";
    assert!(!classes(crash).contains(&Class::InitBlocked));
}

/// A "not … yet" line repeated under changing timestamps is the same wait loop: the
/// timestamps are stripped before lines are compared.
#[test]
fn a_timestamped_not_yet_line_repeated_is_an_init_wait() {
    let etcd = "2024-03-01T10:00:01.120Z member list does not include this node yet, retrying\n2024-03-01T10:00:06.131Z member list does not include this node yet, retrying";
    assert_eq!(classes(etcd).first(), Some(&Class::InitBlocked));
    let klog = "I0301 10:00:01.120000       1 bootstrap.go:88] primary hasn't accepted the replica yet\nI0301 10:00:11.120000       1 bootstrap.go:88] primary hasn't accepted the replica yet";
    assert_eq!(classes(klog).first(), Some(&Class::InitBlocked));
    assert!(classes("2024-03-01 10:00:01 the primary has not been elected yet").is_empty());
}

/// A non-zero exit of an init container, told in words, fields or restart counts.
#[test]
fn an_init_container_that_exits_non_zero_crash_loops() {
    assert_first(
        Class::InitCrashloop,
        &[
            "The initContainer for setting permissions runs chown -R 65534:82 /srv/cfg; chown fails on the configMap and exits with exit code 1.",
            "the init container can't chown the .tmp files, causing it to exit non-zero. 1012 restarts over 3.5 days.",
            "initContainerStatuses:\n  - lastState:\n      terminated:\n        exitCode: 127\n        message: 'exec: \"/binbash\": stat /binbash: no such file or directory'",
        ],
    );
    // A main container's exit below a finished init container is not an init crash.
    let describe = "Init Containers:\n  migrate:\n    State: Terminated\n      Exit Code: 0\nContainers:\n  web:\n    Last State: Terminated\n      Exit Code: 1\n";
    assert!(!classes(describe).contains(&Class::InitCrashloop));
}

/// A `kubectl get jobs` table with a Job at 0 completions for hours is stuck active, even
/// when the report mentions a deadline (that deadline evidently did not fire).
#[test]
fn a_job_active_for_hours_in_a_jobs_table_is_stuck() {
    let table = "activeDeadlineSeconds is set to 3600 in the template\nNAME                        COMPLETIONS   DURATION   AGE\nmailer-1633609500           1/1           4s         23h\nmailer-1633610400           0/1           22h        22h";
    assert_eq!(classes(table).first(), Some(&Class::JobStuckActive));
    let no_pods = "$ kubectl get jobs\nNAME                 COMPLETIONS  DURATION  AGE\nreport-job-2883307   0/1                    84m       84m\nNo resources found in zzz namespace";
    assert_eq!(classes(no_pods).first(), Some(&Class::JobStuckActive));
    // A Job a few minutes in is just running.
    let fresh = "NAME        COMPLETIONS   DURATION   AGE\nbackup-1    0/1           3m         3m";
    assert!(!classes(fresh).contains(&Class::JobStuckActive));
}

/// A Job whose pod outlives its main container: a mesh or database proxy sidecar keeps
/// running, or the pod is said to stay Running after the container exited.
#[test]
fn a_sidecar_that_outlives_the_main_container_keeps_the_job_active() {
    assert_first(
        Class::JobStuckActive,
        &[
            "Jobs never complete with injection on: the istio-proxy container is still running after the migrate container exits.",
            "kubectl get pods\nNAME                 READY   STATUS     RESTARTS   AGE\nbackup-28413-x7k2p   1/2     NotReady   0          3h\nThe CronJob's cloud-sql-proxy sidecar does not exit when the backup finishes.",
            "Our cron job's container logs show it exited successfully, however the pod stays Running, so no new job is started.",
        ],
    );
    // A sidecar that keeps running in a Deployment is how it should be.
    assert!(
        !classes("the envoy sidecar keeps running next to the web server")
            .contains(&Class::JobStuckActive)
    );
}

/// Helm's wait on a hook Job that never completes, in the v3.13+ and older wordings.
#[test]
fn a_hook_job_still_in_progress_at_the_helm_timeout() {
    assert_first(
        Class::JobStuckActive,
        &[
            "Error: UPGRADE FAILED: pre-upgrade hooks failed: resource not ready, name: db-migrate, kind: Job, status: InProgress\ncontext deadline exceeded",
            "level=DEBUG msg=\"waiting for resource\" name=db-migrate kind=Job expectedStatus=Current actualStatus=InProgress\nJob db-migrate status: InProgress",
        ],
    );
}

/// Helm's own watch of a hook Job ends on the Job still active: Helm is waiting on a Job
/// that does not complete. A watch that ends on a success is no finding.
#[test]
fn helm_watch_ending_on_an_active_hook_job_is_stuck() {
    let waiting = "client.go:229: [debug] Watching for changes to Job schema-upgrade with timeout of 10m0s\nclient.go:257: [debug] Add/Modify event for schema-upgrade: ADDED\nclient.go:296: [debug] schema-upgrade: Jobs active: 1, jobs failed: 0, jobs succeeded: 0\nclient.go:257: [debug] Add/Modify event for schema-upgrade: MODIFIED\nclient.go:296: [debug] schema-upgrade: Jobs active: 1, jobs failed: 0, jobs succeeded: 0";
    assert_eq!(classes(waiting).first(), Some(&Class::JobStuckActive));
    let done = "client.go:296: [debug] schema-upgrade: Jobs active: 1, jobs failed: 0, jobs succeeded: 0\nclient.go:296: [debug] schema-upgrade: Jobs active: 0, jobs failed: 0, jobs succeeded: 1";
    assert!(!classes(done).contains(&Class::JobStuckActive));
}

/// Helm's watch showing the hook Job's pods failing again and again (its failed count
/// rising, no success) is a Job using up its retries, even while one pod is active.
#[test]
fn helm_watch_of_a_hook_job_failing_again_and_again_is_its_backoff() {
    let watch = |failed: u32| {
        format!(
            "client.go:740: [debug] Add/Modify event for app-post-install-seed: MODIFIED\nclient.go:779: [debug] app-post-install-seed: Jobs active: 1, jobs failed: {failed}, jobs succeeded: 0"
        )
    };
    assert_eq!(classes(&watch(3)).first(), Some(&Class::JobBackoffLimit));
    assert_eq!(classes(&watch(2)).first(), Some(&Class::JobBackoffLimit));
    // One failure and a replacement still running: the wait, not the retries, is the story.
    assert_eq!(classes(&watch(1)).first(), Some(&Class::JobStuckActive));
}

/// A hook phase that failed because Helm's wait ran out: the hook Job was still active.
#[test]
fn a_hook_phase_that_timed_out_is_a_stuck_hook_job() {
    assert_first(
        Class::JobStuckActive,
        &[
            "Error: UPGRADE FAILED: pre-upgrade hooks failed: 1 error occurred:\n\t* timed out waiting for the condition",
            "helm.go:84: [debug] failed pre-install: context deadline exceeded",
        ],
    );
    // A hook that failed for its own reason is that reason, not a stuck Job.
    assert_eq!(
        classes("Error: failed post-upgrade: job failed: BackoffLimitExceeded").first(),
        Some(&Class::JobBackoffLimit)
    );
}

/// A Job said to remain running, or to fail to complete, while the deploy waits on it.
#[test]
fn jobs_said_to_remain_running() {
    assert_first(
        Class::JobStuckActive,
        &[
            "The db-seed Job stays in Running state and `helm upgrade --wait` never returns.",
            "helm hangs because the pre-install job fails to finish, although its log says it is done.",
        ],
    );
}

/// "Jobs" in the plural and "do not complete" read as a stuck Job too.
#[test]
fn jobs_said_not_to_complete() {
    assert_eq!(
        classes("All our Jobs are broken (they never complete).").first(),
        Some(&Class::JobStuckActive)
    );
}

/// The volume-permissions init container that may not change the volume: a denied chown /
/// chmod in its log, or a describe block of a container running only chown that crash-loops.
#[test]
fn a_denied_permission_fix_is_an_init_crash_loop() {
    assert_first(
        Class::InitCrashloop,
        &[
            "With runAsNonRoot enforced the initContainer fails:\nchown: changing ownership of '/var/lib/mysql/data': Permission denied\n\nkubectl logs db-0 -c volume-permissions",
            "Init Containers:\n  fix-perms:\n    Command:\n      sh\n      -c\n      chmod -R 0775 /data\n    State: Waiting\nchmod: changing permissions of '/data/lost+found': Operation not permitted",
            "volume-permissions:\n    Container ID:  containerd://1f0c\n    Image:         busybox:1.36\n    Command:\n      chown\n      -R\n      1001:1001\n      /bitnami/redis/data\n    State:          Waiting\n      Reason:       CrashLoopBackOff\n    Last State:     Terminated\n      Reason:       Error\n      Exit Code:    1",
        ],
    );
    // A chown that works, or a denied chown in an app container's log, is not it.
    assert!(!classes("Command:\n  chown\n  -R\n  1000:1000\n  /data\nState: Terminated\n  Reason: Completed\n  Exit Code: 0").contains(&Class::InitCrashloop));
    assert!(
        !classes("app log: cp: cannot create regular file '/etc/app.conf': Permission denied")
            .contains(&Class::InitCrashloop)
    );
}

/// A DNS wait loop told by nslookup's own output: NXDOMAIN answers beside "waiting for".
#[test]
fn nslookup_nxdomain_beside_a_wait_line_is_an_init_wait() {
    let text = "Server:\t\t10.96.0.10\nAddress:\t10.96.0.10:53\n\nName:\tredis-master.cache.svc.cluster.local\nAddress: 10.96.44.7\n\n** server can't find redis-master.svc.cluster.local: NXDOMAIN\n\n** server can't find redis-master.cluster.local: NXDOMAIN\n\nwaiting for redis";
    assert_eq!(classes(text).first(), Some(&Class::InitBlocked));
    let plain = "nslookup: can't resolve 'postgres-primary'\nwaiting for postgres";
    assert_eq!(classes(plain).first(), Some(&Class::InitBlocked));
}

/// A Job that never reaches Complete although its pod finished, or is said to run forever,
/// is stuck active; a Job with no deadline set cannot have exceeded one.
#[test]
fn a_job_that_never_completes_without_a_deadline_is_stuck_active() {
    assert_first(
        Class::JobStuckActive,
        &[
            "Since the upgrade our migration Job never transitions to Complete even though its pod shows Succeeded.",
            "The nightly report CronJob has no activeDeadlineSeconds, so when the export hangs the job keeps running forever and the next run never starts.",
            "The cleanup jobs are never marked as completed; activeDeadlineSeconds is not set on them.",
        ],
    );
    // A deadline that is set and fired stays a deadline.
    assert_eq!(
        classes("Job was active longer than specified deadline; activeDeadlineSeconds: 600")
            .first(),
        Some(&Class::JobDeadlineExceeded)
    );
    assert_eq!(
        classes("We set activeDeadlineSeconds to 600 and the job was stopped after ten minutes.")
            .first(),
        Some(&Class::JobDeadlineExceeded)
    );
}

/// A mesh or database proxy said not to exit, in words other than `istio-proxy`: the Job's
/// pod keeps running after the work is done. A proxy that exits is no finding.
#[test]
fn a_proxy_told_not_to_exit_keeps_the_job_active() {
    assert_first(
        Class::JobStuckActive,
        &[
            "With the Linkerd proxy injected, our migration job's pod never finishes: the proxy is not exiting after the migration container completed.",
            "The backup CronJob has an Istio proxy sidecar; after the dump the proxy won't stop, so the job stays active.",
        ],
    );
    let fine = "The job's proxy exits with the main container and the Job completes.";
    assert!(!classes(fine).contains(&Class::JobStuckActive));
}

/// A Job said to create pods without end (each pod fails, the Job replaces it): the
/// retries are unbounded, a backoff-limit reading.
#[test]
fn a_job_that_creates_pods_without_end_is_a_backoff_problem() {
    assert_first(
        Class::JobBackoffLimit,
        &[
            "Our cleanup job spawned thousands of pods overnight because the script had a wrong path.",
            "The job keeps creating new pods, every one of them in Error.",
        ],
    );
    // No Job in sight, or a bounded number of pods: not this rule.
    assert!(classes("The ReplicaSet keeps creating new pods after each eviction.").is_empty());
    assert!(classes("The job created 3 pods, one per index, and completed.").is_empty());
}

/// An init container whose own command fails (a `fatal:` / `error:` line) crash-loops; one
/// that logs a wait is still a wait.
#[test]
fn an_init_container_whose_command_fails_crash_loops() {
    let text = "the init container that renders the config fails:\nerror: template: config.tpl:3: function \"required\" not defined\n";
    assert_eq!(classes(text).first(), Some(&Class::InitCrashloop));
    let wait = "Init:0/1\nerror: database not ready yet, retrying in 5s";
    assert_eq!(classes(wait).first(), Some(&Class::InitBlocked));
    // A `fatal:` line outside any init container is not this rule.
    assert!(classes("fatal: not a git repository").is_empty());
}

/// `Init 0/1` typed without its colon is the same pod status.
#[test]
fn an_init_status_typed_without_its_colon_is_an_init_wait() {
    let text = "Some pods sit in Init 0/2 for hours after a node replacement; the agent container logs only its start-up banner.";
    assert_eq!(classes(text).first(), Some(&Class::InitBlocked));
    assert!(classes("init 0/2 steps done").is_empty());
}

/// Several of a Job's pods shown or said to have failed: the Job retried to its limit.
#[test]
fn several_failed_pods_of_a_job_hit_the_backoff_limit() {
    assert_first(
        Class::JobBackoffLimit,
        &[
            "CronJob backup: 3 pods in state Failed, all with the same pg_dump error",
            "every pod of the nightly cronjob ends up in Error status",
            "The job retried 4 times and gave up; each pod logged a connection timeout.",
            "kind: Job\n$ kubectl get pods\nNAME              READY   STATUS   RESTARTS   AGE\nmigrate-x7k2p     0/1     Error    0          9m\nmigrate-q8r4t     0/1     Error    0          8m",
            "Name:           nightly-report\nParallelism:    1\nCompletions:    1\nPods Statuses:  0 Active (0 Ready) / 0 Succeeded / 6 Failed",
        ],
    );
    assert_absent(
        Class::JobBackoffLimit,
        &[
            "CronJob sync: 3 pods Running",
            "CronJob sync: 3 pods failed to schedule: 0/4 nodes are available",
        ],
    );
    let one = "kind: Job\nmigrate-x7k2p     0/1     Error    0          9m";
    assert!(!classes(one).contains(&Class::JobBackoffLimit));
    // ... unless the Job allows no retry.
    let no_retry =
        "kind: Job\nspec:\n  backoffLimit: 0\nseed-db-7x2kq     0/1     Error    0          1m";
    assert_eq!(classes(no_retry).first(), Some(&Class::JobBackoffLimit));
}

/// Pods said in prose to stay in their init phase (any verb form, "Initializing" too) are
/// held by an init container; an app "hanging on init" of a client is no init phase.
#[test]
fn pods_said_to_stay_in_init_are_an_init_wait() {
    assert_first(
        Class::InitBlocked,
        &[
            "After every helm upgrade the api and worker pods remain in Initializing for hours.",
            "Our scheduler pods keep hanging at init state after a node drain, nothing in the events.",
        ],
    );
    assert!(classes("The app hangs on init of its Kafka client and never serves.").is_empty());
}

/// Pods stuck in init beside another workload said to crash ("…, and the dashboard pods keep
/// restarting"): the crash is that workload's, not the init container's. A crash said of the
/// pod itself after "and" still reads as the init container's.
#[test]
fn a_crash_told_of_another_workload_is_not_an_init_crash() {
    let text = "On GKE the payment and shipping pods are stuck in init and the kibana deployment keeps restarting.";
    assert_eq!(classes(text).first(), Some(&Class::InitBlocked));
    let own = "The init container fails on the config render and the pod keeps restarting.";
    assert_eq!(classes(own).first(), Some(&Class::InitCrashloop));
}

/// An init container's tool printing its own usage error (`chmod: missing operand`, `Try
/// 'cp --help'`, `invalid option`): the step's command is malformed, so it exits on every
/// start, it does not wait.
#[test]
fn an_init_step_failing_with_a_tool_usage_error_crash_loops() {
    assert_first(
        Class::InitCrashloop,
        &[
            "Logs of our init container:\nmkdir: invalid option -- 'x'\nBusyBox v1.36.1 multi-call binary.",
            "kubectl logs web-0 -c fix-perms\nchmod: missing operand after '755'\nTry 'chmod --help' for more information.\n(initContainers set the data dir mode)",
            "initContainers copy the config:\ncp: missing destination file operand after '/etc/app/app.conf'",
        ],
    );
    // The same line with no init container in sight is not an init container's.
    let app = "kubectl logs api-5f7c -c api\nchmod: missing operand";
    assert!(!classes(app).contains(&Class::InitCrashloop), "{app}");
}

/// Pods of one controller left in Error without a restart were replaced, not restarted:
/// a Job's retries, even when the report never says "job" (an experiment's trials, a
/// pipeline step). Pods that restart in place, or of different controllers, are not.
#[test]
fn pods_of_one_controller_replaced_after_failing_are_a_jobs_retries() {
    assert_first(
        Class::JobBackoffLimit,
        &[
            "NAME                          READY   STATUS   RESTARTS   AGE\nsweep-trial-4kq8d-x2p9q       0/1     Error    0          2m\nsweep-trial-4kq8d-7hj2m       0/1     Error    0          3m\nsweep-trial-4kq8d-c9w4z       0/1     Error    0          4m",
        ],
    );
    assert_absent(
        Class::JobBackoffLimit,
        &[
            "api-6d8f7c9b5-x2p9q   0/1   CrashLoopBackOff   7 (1m ago)   12m\napi-6d8f7c9b5-7hj2m   0/1   Error   5   12m",
            "web-7f9c4-x2p9q   0/1   Error   0   2m\nworker-55d8b-7hj2m   0/1   Error   0   3m",
        ],
    );
}

/// A Job's backoff limit said to be too low for the work (the retries run out before what it
/// waits for is up): its retries, not a stuck Job; "increase the backoff limit" alone, with
/// no Job, is nothing.
#[test]
fn a_backoff_limit_told_to_be_too_low_is_the_jobs_retries() {
    assert_first(
        Class::JobBackoffLimit,
        &[
            "Our migration Job's backoffLimit of 2 is too low when the database pod restarts during upgrades.",
            "We had to increase the backoffLimit of the seeding job, the workers come up too slowly.",
        ],
    );
    assert_absent(
        Class::JobBackoffLimit,
        &["increase the backoff limit of the HTTP client to survive registry outages"],
    );
}

/// A Job told to run on without finishing, and for how long (hours, days): far past its
/// expected duration, a firmer reading than the words alone.
#[test]
fn a_job_told_to_hang_for_hours_is_stuck_with_more_weight() {
    let long = "The db-init job does not complete; I have let it run for several hours now with no change.";
    let short = "The db-init job does not complete.";
    let conf = |text: &str| {
        diagnose_text(text)
            .into_iter()
            .find(|d| d.class == Class::JobStuckActive)
            .map(|d| d.confidence)
    };
    assert!(conf(long).unwrap() > conf(short).unwrap());
}

/// A pod named as a Job's (a webhook's certificate hook, `…-job-xxxxx`) whose program ends
/// fatally: the Job's pods fail into its backoff limit. The same fatal line from a
/// Deployment's pod is not a Job's.
#[test]
fn a_job_pods_fatal_end_is_the_jobs_retries() {
    assert_first(
        Class::JobBackoffLimit,
        &[
            "$ kubectl logs -n monitoring prom-stack-admission-patch-q7w2k\n{\"err\":\"Get \\\"https://10.0.0.1:443/api/v1/namespaces/monitoring/secrets/prom-stack-admission\\\": dial tcp 10.0.0.1:443: i/o timeout\",\"level\":\"fatal\",\"msg\":\"error getting secret\"}",
            "report-job-8fk2d   0/1   CrashLoopBackOff   3   2m\nlevel=fatal msg=\"cannot open /data/input.csv\"",
        ],
    );
    assert_absent(
        Class::JobBackoffLimit,
        &[
            "web-7c9d8f-x2kqp   0/1   CrashLoopBackOff   3   2m\nlevel=fatal msg=\"cannot open /data/input.csv\"",
        ],
    );
}

/// A hook's pod by its name (`…-hook-xxxxx`), or a log told to be a Job's, ending in the
/// program's own `Error` line: the Job's pods fail. An `Error` in a table's column, or a log
/// of no Job, is not this.
#[test]
fn a_hook_or_a_jobs_log_ending_in_an_error_is_the_jobs_retries() {
    assert_first(
        Class::JobBackoffLimit,
        &[
            "$ kubectl logs -n infra cert-manager-startupapicheck-hook-4kx9z\nchecking API readiness\nError from server (Forbidden): certificates.cert-manager.io is forbidden: User \"system:serviceaccount:infra:startup\" cannot create resource \"certificates\"",
            "These are the logs from the job:\n```\nconnecting to 10.2.0.4:8200\nError: failed to unseal: context deadline exceeded\n```",
            "Running the chart's index-setup-job fails:\nCreating indices\n2024/02/01 10:00:01 Command exited with error: exit status 2",
        ],
    );
    assert_absent(
        Class::JobBackoffLimit,
        &[
            "web-7c9d8f-x2kqp   0/1   Error   0   2m",
            "$ kubectl logs web-7c9d8f-x2kqp\nError: failed to unseal: context deadline exceeded",
        ],
    );
}

/// A dependency the log says answered ("Received 200 from …") is not what holds the pod:
/// the same log with the wait unanswered still is.
#[test]
fn a_wait_the_log_says_ended_holds_nothing() {
    let waited = "Waiting for: http://search-master:9200\nProblem with dial: dial tcp 10.0.3.7:9200: connect: connection refused. Sleeping 1s\ncurl -s http://search-master:9200/_cluster/health";
    assert_first(Class::InitBlocked, &[waited]);
    assert_absent(
        Class::InitBlocked,
        &[
            "Waiting for: http://search-master:9200\nReceived 200 from http://search-master:9200\ncurl: (3) URL using bad/illegal format or missing URL http://search-master:9200/_ilm\nCommand exited with error: exit status 1",
        ],
    );
}

/// A Job's pod kept by the Job controller's tracking finalizer (a webhook rejecting the
/// controller's patch) stays Terminating: the Job is stuck; the finalizer on a pod that goes
/// away, or a pod Terminating without it, is not this.
#[test]
fn a_pod_kept_by_the_job_tracking_finalizer_leaves_the_job_stuck() {
    assert_first(
        Class::JobStuckActive,
        &[
            "NAME                 READY   STATUS        RESTARTS   AGE\nnightly-29011-abcde  0/1     Terminating   0          3d\nmetadata:\n  finalizers:\n  - batch.kubernetes.io/job-tracking",
            "Since we enabled the mesh injector, the pods of our batch jobs are never deleted. They all carry the finalizer batch.kubernetes.io/job-tracking.",
        ],
    );
    assert_absent(
        Class::JobStuckActive,
        &[
            "the pod has the finalizer batch.kubernetes.io/job-tracking while it runs; it completed and was removed as expected",
        ],
    );
}

/// A wait loop in the log of a Job told to have failed, nothing marking an init container,
/// is the Job's script: the Job's failure, not an init wait; the same log told of an init
/// container is still the wait.
#[test]
fn a_wait_loop_in_a_failed_jobs_script_is_the_jobs_failure() {
    let log = "Waiting for the object store to be ready...\n/scripts/setup.sh: line 9: wget: not found\nstore not ready yet, waiting... (0s/120s)\n/scripts/setup.sh: line 9: wget: not found\nstore not ready yet, waiting... (5s/120s)";
    assert_first(
        Class::JobBackoffLimit,
        &[&format!(
            "The `make-buckets` job fails with `wget: not found`:\n{log}"
        )],
    );
    assert_first(
        Class::InitBlocked,
        &[&format!(
            "The `wait-store` init container never finishes:\n{log}"
        )],
    );
}

/// A CronJob's run by its pod name (`<cronjob>-<scheduled minute>-<suffix>`) ending in
/// kubectl's lowercase `error:` or a panic, and a pod in Error beside its replacement that
/// completed: the Job's pods fail. A Deployment's pod beside a completed one is not this.
#[test]
fn a_cronjob_runs_pod_failing_and_a_replaced_pod_are_the_jobs_retries() {
    assert_first(
        Class::JobBackoffLimit,
        &[
            "$ kubectl logs report-nightly-28411230-q2w8x\nerror: reports.example.io is forbidden: User \"system:serviceaccount:ops:default\" cannot list resource \"reports\"",
            "NAME                      READY   STATUS      RESTARTS   AGE\nexport-run-7f2kq          0/1     Error       0          9m\nexport-run-x9c4m          0/1     Completed   0          8m\ndb-0                      1/1     Running     0          1h",
        ],
    );
    assert_absent(
        Class::JobBackoffLimit,
        &[
            "NAME                       READY   STATUS      RESTARTS   AGE\nweb-6d4f8b7c9-abcde        0/1     Error       0          9m\nmigrate-x9c4m              0/1     Completed   0          8m",
        ],
    );
}

/// "The low (default) backoff limit" the controller sets is the Job's retries running out.
#[test]
fn a_low_default_backoff_limit_told_is_the_jobs_retries() {
    assert_first(
        Class::JobBackoffLimit,
        &[
            "I think the root cause is the low (default) backoff limit the controller configures its upgrade jobs with.",
        ],
    );
}

/// A Job's or hook's pod shown NotReady with part of its containers ready and no restart (a
/// container done, a sidecar still running): the Job stays active, whether or not the
/// report says "job". A Deployment's pod so shown, or one restarting, is not.
#[test]
fn a_job_pod_shown_not_ready_after_its_work_is_stuck() {
    assert_first(
        Class::JobStuckActive,
        &[
            "NAME                       READY   STATUS     RESTARTS   AGE\npod/hook-warmup-7xk2p      1/2     NotReady   0          14m",
            "the install hangs:\nschema-certgen-dxbqx   1/2   NotReady   0   117s",
        ],
    );
    assert_absent(
        Class::JobStuckActive,
        &[
            "api-6cdb5748bf-hjbds   1/2   NotReady   0   87m",
            "api-fcdbk748bf-hjbds   1/2   NotReady   0   87m",
            "api-cdbkfhbrt-hjbds   1/2   NotReady   0   87m",
            "hook-warmup-7xk2p   1/2   NotReady   4   14m",
        ],
    );
}

/// An injected proxy said to continue running beside a Job is the Job kept active.
#[test]
fn a_sidecar_that_continues_to_run_keeps_the_job_active() {
    assert_first(
        Class::JobStuckActive,
        &[
            "We deploy a job in the mesh namespace; the job status shows success but the envoy container continues to run as sidecar to the job.",
        ],
    );
}

/// A Job named by a long id before it is said to be stuck is still said to be stuck.
#[test]
fn a_job_named_by_a_long_id_and_told_stuck() {
    assert_first(
        Class::JobStuckActive,
        &[
            "A job `89bff558adf34ef485c571f77ad2c70a` has been stuck in starting state for over 3 days now.",
        ],
    );
}
