//! Init containers and Jobs told about in words, in other wordings and tools than the
//! reports the rules were first written for.

use lastmile_events::Class;

use crate::text::tests::{assert_absent, assert_first, classes, diagnose_text};

/// An init container named by convention (`init-*`, `*-init`, `*-wait`) and said to keep
/// restarting or to have failed is a crash loop; a main container said so is not, nor is a
/// VM's cloud-init.
#[test]
fn a_conventionally_named_init_container_said_to_crash_crash_loops() {
    assert_first(
        Class::InitCrashloop,
        &[
            "kubectl logs api-6d9f -c init-schema shows the migration error, and init-schema keeps restarting",
            "istio-init failed with iptables-restore: line 3 failed",
            "The db-wait container is crash looping since the upgrade.",
            "After the node reboot the pod sits in Init CrashLoopBackOff.",
            "CrashLoopBackOff on the init container after upgrading the chart",
            "my init container copies the config and fails:\nError: EACCES: permission denied, open '/data/config.json'",
        ],
    );
    assert_absent(
        Class::InitCrashloop,
        &[
            "The init container finished, but the app container keeps restarting.",
            "cloud-init failed with a timeout on the new node",
            "The keycloak-db-init job keeps failing after the upgrade.",
        ],
    );
}

/// A kernel-setting step (sysctl, a write to /proc/sys) denied in an init container.
#[test]
fn a_denied_kernel_setting_step_in_an_init_container_crash_loops() {
    assert_first(
        Class::InitCrashloop,
        &[
            "Init:0/1\nsh: can't create /proc/sys/vm/max_map_count: Read-only file system",
            "PodInitializing\nsysctl: permission denied on key 'net.core.somaxconn'",
        ],
    );
    assert!(classes("sysctl: permission denied on key 'net.core.somaxconn'").is_empty());
}

/// An init container said in words to keep waiting for a database, service or migration.
#[test]
fn an_init_container_said_to_keep_waiting_is_blocked() {
    assert_first(
        Class::InitBlocked,
        &[
            "Our init container is stuck waiting for postgres even though the database is up.",
            "The initialization container waits forever for the migrations to finish.",
            "the init step container just keeps waiting on the redis service",
        ],
    );
}

/// A non-zero exit of an init container told in plain words.
#[test]
fn an_init_container_exit_told_in_plain_words_crash_loops() {
    assert_first(
        Class::InitCrashloop,
        &[
            "the script in pod.beta.kubernetes.io/init-containers exits with 2 every time",
            "my init container returns a non-zero code and nothing is logged",
        ],
    );
}

/// An error line beside an init container said to have finished, or beside the app
/// container, is not read above a main container's crash.
#[test]
fn an_error_line_beside_a_finished_init_container_stays_low() {
    let text = "The init container finished fine. The app container keeps restarting; logs:\nError: listen EADDRINUSE: address already in use :::3000";
    let ds = diagnose_text(text);
    assert!(
        ds.iter()
            .all(|d| d.class != Class::InitCrashloop || d.confidence < 0.7),
        "{ds:?}"
    );
}

/// A probe in a Job's own container is the Job's work, not an init container's wait.
#[test]
fn a_probe_in_a_jobs_own_command_is_no_init_wait() {
    let text = "apiVersion: batch/v1\nkind: Job\nspec:\n  template:\n    spec:\n      containers:\n      - name: ping\n        command: [\"sh\", \"-c\", \"until nc -z db 5432; do sleep 2; done\"]";
    assert!(!classes(text).contains(&Class::InitBlocked), "{text}");
}

/// Pods that wait for the work of a Job that never ran (migrations, schema, database setup),
/// told in other words and stacks than any one report's: the wait cannot end.
#[test]
fn a_wait_on_a_job_that_never_ran_is_an_init_wait() {
    assert_first(
        Class::InitBlocked,
        &[
            "The app pods sit in Init:0/1 on wait-for-schema; the schema job was never created because we install with helm template | kubectl apply.",
            "Rails pods crash with ActiveRecord::PendingMigrationError (pending migrations); the migrate job didn't run after the Argo CD sync.",
            "Every deployment times out on its wait-for-db-migrations init container, and kubectl get jobs shows there is no migration job in the namespace.",
            "The api pods log 'waiting for schema version 42'; the job that runs the migrations was never created by the chart.",
            "Keycloak waits for the database forever: the db-setup job is not even scheduled by the pre-install hook.",
        ],
    );
    assert_absent(
        Class::InitBlocked,
        &[
            "The migration job ran and completed; the web pods serve traffic.",
            "The migration job isn't running yet, we deploy it tomorrow.",
            "The post-install hook job never ran and helm is stuck until it times out.",
        ],
    );
}

/// An init container that keeps retrying a login the server refuses (401/403), told in
/// words or shown by an agent's own retry line, waits: it is blocked, not crashing.
#[test]
fn an_init_container_refused_login_again_and_again_is_blocked() {
    assert_first(
        Class::InitBlocked,
        &[
            "The consul-template-init container keeps receiving 401 Unauthorized from the ACL login endpoint and the pod never leaves Init.",
            "At the `secrets-init` stage it kept getting 403 permission denied from the Kubernetes auth login.",
            "Init Containers:\n  fetch-secrets:\n    State: Running\n2024-05-01T10:00:00Z [ERROR] auth.handler: error authenticating: error=\"Code: 403. Errors: * permission denied\" backoff=1.5s",
        ],
    );
    assert!(
        !classes("The api container gets 403 forbidden from the vault login once at startup.")
            .contains(&Class::InitBlocked)
    );
}

/// An init container said to fail its step (clone, fetch, download) or to print only its
/// usage (wrong arguments) exits: a crash loop, not a wait; an image it cannot pull is not.
#[test]
fn an_init_container_that_fails_its_step_or_prints_usage_crash_loops() {
    assert_first(
        Class::InitCrashloop,
        &[
            "Our init container that prepares the site content fails to clone from Bitbucket: Permission denied (publickey).",
            "The copy-assets init container just prints its usage text instead of copying anything.",
            "The init container could not download the model weights from S3 (AccessDenied).",
            "Init Containers:\n  clone-dags:\n    State: Terminated\nI0102 10:00:00.000000 1 main.go:400] \"msg\"=\"too many failures, aborting\" \"error\"=\"Run(git clone): exit status 128: { stderr: \\\"fatal: could not read Username for 'https://gitlab.example.com': terminal prompts disabled\\\" }\"",
        ],
    );
    assert_ne!(
        classes("The init container failed to pull image busybox:1.36: ErrImagePull").first(),
        Some(&Class::InitCrashloop)
    );
}

/// A main program told to refuse to start on a kernel or host limit (a bootstrap check) is a
/// main container's crash: an init container's denied sysctl step beside it is no init crash.
#[test]
fn a_main_programs_kernel_limit_check_is_not_an_init_crash() {
    for text in [
        "initContainers run `sysctl -w vm.max_map_count=262144` and print: sysctl: error setting key 'vm.max_map_count': Read-only file system\nThen the search node exits: max virtual memory areas vm.max_map_count [65530] is too low",
        "Our sysctl init container logs 'sysctl: permission denied on key \"net.core.somaxconn\", ignoring' and the broker stops with: net.core.somaxconn must be at least 1024",
        "init container: ulimit: error setting limit (Operation not permitted)\nnode log: max file descriptors [4096] for process is too low, increase to at least [65535]",
    ] {
        assert!(super::main_kernel_check_failed(text), "{text}");
        assert!(
            !crate::text::tests::classes(text).contains(&lastmile_events::Class::InitCrashloop),
            "{text}"
        );
    }
    // The denied step alone is still the init container's.
    assert!(crate::text::tests::classes(
        "The sysctl init container fails: sysctl: error setting key 'vm.max_map_count': Read-only file system"
    )
    .contains(&lastmile_events::Class::InitCrashloop));
}

/// An init container (or the pod's init phase) said in plain words to fail: "could not
/// complete successfully", "pod initialization failed", a failure that leaves the pod in
/// Error beside init containers. A failure of the app beside a finished init step, or an
/// Error status with no init container in the text, is not it.
#[test]
fn an_init_step_said_to_fail_in_plain_words_crash_loops() {
    assert_first(
        Class::InitCrashloop,
        &[
            "Since the 1.27 upgrade the database pod's init container cannot complete successfully anymore.",
            "Tekton task pods on our cluster: pod initialization failed every time the entrypoint image changed.",
            "The chart adds a schema-migrate init container and a vault-agent sidecar. Whenever the migration step fails the pod turns to Error and nobody recreates it.",
        ],
    );
    assert_absent(
        Class::InitCrashloop,
        &[
            "When the upload fails the pod goes to Error and the CronJob retries it.",
            "The init container completed; then the app container could not run successfully.",
        ],
    );
}

/// A pod said held on a step named as init containers conventionally are (`stuck at
/// restore-wait`, `hangs on wait-for-kafka`) waits on it.
#[test]
fn a_pod_held_on_a_wait_named_step_is_an_init_wait() {
    assert_first(
        Class::InitBlocked,
        &[
            "After the failover the broker pod hangs on wait-for-zookeeper and never starts.",
            "Restored pods stay stuck at restore-wait because the marker file is never written.",
        ],
    );
}

/// An init container said in words to be unable to change a volume's ownership or mode
/// (an NFS export, a root-squashed or foreign-owned mount) fails its step and crash-loops;
/// one said to do so and finish is no failure.
#[test]
fn an_init_step_said_unable_to_change_a_volumes_ownership_crash_loops() {
    assert_first(
        Class::InitCrashloop,
        &[
            "The chart's initContainer is unable to set permissions on the data volume when it sits on our Ceph share, and the database never starts.",
            "On EFS the volume-permissions init container failed to chown /bitnami, so the pod stays at Init.",
            "Our init container tries to fix the owner of the mounted cache; the chown is refused on the NAS export.",
        ],
    );
    assert!(
        !classes(
            "The init container changes ownership of /data to 999 and then redis starts fine."
        )
        .contains(&Class::InitCrashloop)
    );
}

/// A waiter init container whose service account may not read what it polls: exiting on
/// the Forbidden error (crashing, quitting with it) is a crash loop; logging it while it
/// retries is a wait that never ends.
#[test]
fn a_waiter_that_exits_on_forbidden_crash_loops_and_one_that_retries_waits() {
    let forbidden = "pods \"db-0\" is forbidden: User \"system:serviceaccount:shop:api\" cannot list resource \"pods\" in API group \"\" in the namespace \"shop\"";
    let exits = format!("Our wait-for-db init container quits right away with\n{forbidden}");
    assert_eq!(
        classes(&exits).first(),
        Some(&Class::InitCrashloop),
        "{exits}"
    );
    let retries = format!("Init:0/1 for an hour; the init container logs, every 5s:\n{forbidden}");
    assert_eq!(
        classes(&retries).first(),
        Some(&Class::InitBlocked),
        "{retries}"
    );
}

/// Refused the get of a Job, with no failed Job in sight, a pod is a wait-for-a-Job poller
/// (k8s-wait-for) even when no init container is named: a finding with conviction (above
/// what a wording lead can contest), where a refused list of Jobs (a cleaner's) or a read of
/// anything else stays a finding without it.
#[test]
fn a_refused_read_of_jobs_is_a_waiter_with_conviction() {
    let jobs = "When starting pod I got following error\nError from server (Forbidden): jobs.batch is forbidden: User system:serviceaccount:ci:default cannot get resource jobs in API group batch in the namespace ci";
    let cleaner = "error: jobs.batch is forbidden: User \"system:serviceaccount:jx:jx-gcjobs\" cannot list resource \"jobs\" in API group \"batch\" in the namespace \"jx\"";
    let pvcs = "failed to list *v1.PersistentVolumeClaim: persistentvolumeclaims is forbidden: User \"system:serviceaccount:ops:tool\" cannot list resource \"persistentvolumeclaims\" in API group \"\" at the cluster scope";
    let top = |text: &str| {
        let mut ds = diagnose_text(text);
        ds.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
        ds.into_iter().next().map(|d| (d.class, d.confidence))
    };
    let (class, confidence) = top(jobs).unwrap();
    assert_eq!(class, Class::InitBlocked);
    assert!(confidence > 0.8, "{confidence}");
    // Listing Jobs (a cleaner does) or reading anything else: no conviction.
    for other in [cleaner, pvcs] {
        assert!(
            top(other).is_some_and(|(_, c)| c <= 0.8),
            "{:?}",
            top(other)
        );
    }
    // Beside a CronJob told to fail every run, the refused read is its own script's.
    assert_first(
        Class::JobBackoffLimit,
        &[&format!(
            "The descheduler CronJob on prod fails every run. Logs show:\n{pvcs}"
        )],
    );
}

/// Injected validators and installers are init containers by name; a file step an
/// installer fails (a busy binary on the host) crash-loops it, even beside words of
/// something waiting.
#[test]
fn named_validators_and_installers_failing_their_step_crash_loop() {
    assert_first(
        Class::InitCrashloop,
        &[
            "After the upgrade the linkerd-network-validator container fails: iptables output redirect is not configured.",
            "$ kubectl -n kube-system logs calico-node-7x2kq -c install-cni\ncp: cannot create regular file '/host/opt/cni/bin/calico': Text file busy",
            "the init container of the agent fails after a reboot, the node process it replaces is stuck waiting for its socket:\nmv: cannot move '/tmp/agent' to '/host/usr/local/bin/agent': Device or resource busy",
        ],
    );
    // A copy failing in a main container's log, nothing saying init: no init finding.
    assert_ne!(
        classes("kubectl logs web-5c9 -c web\ncp: cannot stat '/config/app.yaml': No such file or directory").first(),
        Some(&Class::InitCrashloop)
    );
}

/// A Job's own script refused a read (its pod shown in Error) is the Job's failure, not an
/// init container waiting on RBAC; with an init container named it stays the waiter's.
#[test]
fn a_jobs_script_refused_a_read_is_no_init_wait() {
    let forbidden = "secrets \"tls\" is forbidden: User \"system:serviceaccount:ops:default\" cannot get resource \"secrets\" in API group \"\" in the namespace \"ops\"";
    let job = format!(
        "NAME                  READY   STATUS   RESTARTS   AGE\nmake-certs-7xk2p      0/1     Error    0          3m\n$ kubectl logs make-certs-7xk2p\n{forbidden}\nthe certificate job fails every time"
    );
    let found = classes(&job);
    assert!(
        !found.contains(&Class::InitBlocked) && !found.contains(&Class::InitCrashloop),
        "{found:?}"
    );
    let waiter = format!(
        "Init:0/1 for an hour; the wait-for-certs init container logs, every 5s:\n{forbidden}"
    );
    assert_eq!(classes(&waiter).first(), Some(&Class::InitBlocked));
}

/// A Job named like an init container, quoted, is the Job.
#[test]
fn a_quoted_job_named_like_an_init_container_is_the_job() {
    assert_eq!(
        super::named_init("after the upgrade, job `db-cluster-init` fails like following"),
        None
    );
}

/// An init container told to crash, to exit with a non-zero code, or whose command is told
/// to fail, exits: a crash loop, not a wait.
#[test]
fn an_init_container_told_to_crash_or_exit_non_zero_crash_loops() {
    assert_first(
        Class::InitCrashloop,
        &[
            "After a node reboot the render-config init container crashes because it cannot overwrite the file it wrote before.",
            "The describe output shows the init container exited on `mkdir` with exit code 1.",
            "The volume-permissions init container holds the pod in Init because its chown command is failing on the NFS share.",
        ],
    );
}

/// An init container named as a chart's values key (`initChownData`) or in Chinese
/// (初始化容器, the zh docs' `Init 容器`) is an init container: its failing command
/// crash-loops the pod's init, not a main container.
#[test]
fn init_containers_named_by_values_key_or_in_chinese_crash_loop_init() {
    assert_first(
        Class::InitCrashloop,
        &[
            "After the upgrade we get these errors from the initVolumePerms container:\nchown: /data/lost+found: Operation not permitted",
            "error: Dirty database version 12. Fix and force version.\n\n部署时，初始化容器提示上面的错误",
            "Init 容器报错：error: connection refused while running migrations, exit status 1",
        ],
    );
    // A camel-case word that is no container name is no init container.
    assert_absent(
        Class::InitCrashloop,
        &["initDatabase failed: connection refused\nBack-off restarting failed container"],
    );
}

/// A traceback through the script KServe's injected `storage-initializer` runs
/// (`initializer-entrypoint`) is that init container's failure: the model download fails and
/// the pod never leaves Init. A main container's traceback without it is not.
#[test]
fn a_traceback_through_kserves_initializer_entrypoint_crash_loops_init() {
    assert_first(
        Class::InitCrashloop,
        &[
            "Traceback (most recent call last):\n  File \"/storage-initializer/scripts/initializer-entrypoint\", line 14, in <module>\n    kserve.Storage.download(src_uri, dest_path)\n  File \"/kserve/kserve/storage/storage.py\", line 72, in download\n    model_dir = Storage._download_s3(uri, out_dir)\nbotocore.exceptions.NoCredentialsError: Unable to locate credentials",
        ],
    );
    assert_absent(
        Class::InitCrashloop,
        &[
            "Traceback (most recent call last):\n  File \"/app/server.py\", line 9, in <module>\n    import torch\nModuleNotFoundError: No module named 'torch'\nBack-off restarting failed container",
        ],
    );
}

/// The ownership fixers charts and operators run first (`chown-…`, Bitnami's
/// `volume-permissions`), their log asked for by name, fail the pod's init.
#[test]
fn ownership_fixers_named_by_their_log_crash_loop_init() {
    assert_first(
        Class::InitCrashloop,
        &[
            "Warning  BackOff  2m (x40 over 12m)  kubelet  Back-off restarting failed container\n$ kubectl logs ceph-mon-b-5d8 -c chown-mon-data\nchown: changing ownership of '/var/lib/ceph/mon/ceph-b': Permission denied",
            "Back-off restarting failed container\nkubectl logs redis-master-0 -c volume-permissions\nchown: /data: Operation not permitted",
        ],
    );
}

/// Lines a deployer or a scheduler repeats are no container polling a dependency: Helm's
/// `Watching for changes to Job … with timeout of 5m0s`, a gang scheduler's `tasks in gang
/// unschedulable: pod group is not ready` (as a condition and as an event).
#[test]
fn a_deployers_or_gang_schedulers_repeated_lines_are_no_wait_loop() {
    assert_absent(
        Class::InitBlocked,
        &[
            "client.go:740: Watching for changes to Job db-migrate with timeout of 5m0s\nclient.go:740: Watching for changes to Job db-migrate with timeout of 5m0s\nclient.go:740: Watching for changes to Job db-migrate with timeout of 5m0s",
            "Message:               1/1 tasks in gang unschedulable: pod group is not ready, 1 Pending, 1 minAvailable.\n  Warning  Unschedulable  69s (x78789 over 26h)  volcano  1/1 tasks in gang unschedulable: pod group is not ready, 1 Pending, 1 minAvailable.",
        ],
    );
}

/// An initializer (KServe's `storage-initializer`, a `model-initializer`) is an init
/// container by name: its traceback is an init crash, not a main container's.
#[test]
fn an_initializer_by_name_is_an_init_container() {
    assert_first(
        Class::InitCrashloop,
        &[
            "kubectl logs mnist-predictor-7d9f-x7k2p -c storage-initializer\nTraceback (most recent call last):\n  File \"/storage-initializer/scripts/initializer-entrypoint\", line 14, in <module>\nValueError: invalid endpoint",
        ],
    );
}
