use super::*;

/// The runtime's `exec: "/x": permission denied` is the exec rule's, not an app's
/// permission error.
#[test]
fn an_exec_failure_line_is_not_an_app_cause() {
    assert!(is_kubelet_noise(
        "Argocd Dex in crashloopbackoff reason container process: exec: \"/shared/argocd-dex\": permission denied"
    ));
    assert!(!is_kubelet_noise("open /data/db.lock: permission denied"));
}

#[test]
fn exit_codes_have_meanings() {
    assert!(exit_meaning(137).contains("SIGKILL"));
    assert!(exit_meaning(139).contains("SIGSEGV"));
    assert!(exit_meaning(127).contains("not found"));
    assert!(exit_meaning(0).contains("keep running"));
}

#[test]
fn each_cause_is_recognised_alone() {
    for (line, name) in [
        (
            "nginx: [emerg] bind() to 0.0.0.0:80 failed (98: Address in use)",
            "port already in use",
        ),
        (
            "error: Dirty database version 12. Fix and force version.",
            "failed migration",
        ),
        (
            "ERROR: Validate failed: Detected failed migration to version 42 (add orders index)",
            "failed migration",
        ),
        (
            "Error: environment variable DATABASE_URL is not set",
            "missing environment variable",
        ),
        (
            "open /etc/app/config.yaml: no such file or directory",
            "missing config file",
        ),
        ("mkdir /data/loki: permission denied", "permission denied"),
        (
            "Error: unknown flag: --listen",
            "wrong command or arguments",
        ),
        (
            "panic: runtime error: invalid memory address or nil pointer dereference",
            "panic",
        ),
        (
            "dial tcp 10.0.0.7:5432: connect: connection refused",
            "dependency unreachable",
        ),
    ] {
        let f = Facts {
            lines: vec![line.into()],
            ..Facts::default()
        };
        assert_eq!(cause(&f).map(|(c, _)| c.name), Some(name), "{line}");
    }
}

/// Restarts told in words, beside an app that cannot reach its database at start (errno
/// names, a connection pool giving up): a crash loop with the dependency as its cause.
#[test]
fn restarts_told_in_words_with_an_unreachable_dependency() {
    let target = Target::of(&lastmile_intake::incident_from_text(""));
    for t in [
        "The migration runner failed immediately with `connect EHOSTUNREACH 10.0.4.10:5432`. Kubernetes restarted it 3x via backoff until the database was ready.",
        "Error: pool timed out while waiting for an open connection\nShutting down gracefully...\nthe api pod keeps restarting",
        "connect ECONNREFUSED 10.96.0.12:6379 and the worker is crashlooping",
    ] {
        let f = Facts {
            lines: t.lines().map(str::to_owned).collect(),
            ..Facts::default()
        };
        let found = diagnose(&f, &target).unwrap_or_else(|| panic!("{t}"));
        assert!(
            found.diagnosis.summary.contains("dependency unreachable"),
            "{t}: {}",
            found.diagnosis.summary
        );
    }
    // The error alone, with no sign the container restarts, is no crash loop.
    let f = Facts {
        lines: vec!["connect ECONNREFUSED 10.96.0.12:6379".to_owned()],
        ..Facts::default()
    };
    assert!(diagnose(&f, &target).is_none());
    compile_all();
}

/// A container whose current state is a clean exit, never restarted, ran to completion (a
/// Job's or a one-shot pod's work): no crash loop. The same exit code under `Last State`
/// with restarts is one.
#[test]
fn a_container_that_ran_to_completion_once_is_no_crash_loop() {
    let t = Target::of(&lastmile_intake::incident_from_text(""));
    let done = "Containers:\n  backup:\n    State:          Terminated\n      Reason:       Completed\n      Exit Code:    0\n    Ready:          False\n    Restart Count:  0\n  envoy:\n    State:          Running\n    Ready:          True\n";
    assert!(diagnose(&crate::text::describe_facts(done), &t).is_none());
    let again = "Containers:\n  web:\n    State:          Running\n    Last State:     Terminated\n      Reason:       Completed\n      Exit Code:    0\n    Restart Count:  12\n";
    let found = diagnose(&crate::text::describe_facts(again), &t);
    assert!(found.is_some(), "a server that keeps exiting 0 crash-loops");
}

/// The kubelet's restart back-off told in the reporter's words rather than as
/// `CrashLoopBackOff`: the container keeps exiting. A back-off on pulling is not a restart.
#[test]
fn a_restart_back_off_told_in_words_is_a_crash_loop() {
    let t = Target::of(&lastmile_intake::incident_from_text(""));
    for text in [
        "after the upgrade the worker pod sits in restart backoff and never serves traffic",
        "kubectl get events shows the kubelet backing off restarting the api container",
    ] {
        let f = Facts {
            lines: text.lines().map(str::to_owned).collect(),
            ..Facts::default()
        };
        assert!(diagnose(&f, &t).is_some(), "{text}");
    }
    let f = Facts {
        lines: vec!["the pod is in back-off pulling image registry.local/api:2".to_owned()],
        ..Facts::default()
    };
    assert!(diagnose(&f, &t).is_none());
}

/// A pasted `kubectl get pods` table showing every pod running (or NotReady) with 0
/// restarts: an error line in a log is one the process lived through, a reading below the
/// rest of the report. The same line beside a pod that restarts stays a crash loop.
#[test]
fn a_failure_line_from_pods_that_never_restarted_is_only_a_reading() {
    let quiet = "NAMESPACE   NAME                          READY   STATUS     RESTARTS   AGE\n\
        batch       report-export-28811520-x2kqp  1/2     NotReady   0          14m\n\
        batch       report-export-28811525-9fjzd  1/2     NotReady   0          9m\n\
        [report-export-28811525-9fjzd log-shipper] level=error msg=\"listen tcp :2020: bind: address already in use\"";
    let incident = lastmile_intake::incident_from_text(quiet);
    let t = Target::of(&incident);
    let f = Facts::of(&incident);
    assert!(f.running_unrestarted);
    let found = diagnose(&f, &t).expect("the line is still read");
    assert_held(&found, UNRESTARTED, "has not restarted");

    let looping = "NAME                      READY   STATUS             RESTARTS      AGE\n\
        api-7d9f8b6c4-kq2lm       0/1     CrashLoopBackOff   6 (40s ago)   7m\n\
        postgres-0                1/1     Running            0             7m\n\
        level=error msg=\"listen tcp :8080: bind: address already in use\"";
    let incident = lastmile_intake::incident_from_text(looping);
    let f = Facts::of(&incident);
    assert!(!f.running_unrestarted);
    let found = diagnose(&f, &Target::of(&incident)).unwrap();
    assert!(found.diagnosis.confidence >= 0.9, "{:?}", found.diagnosis);
}

/// A report telling a Job failed, or naming the pod as a CronJob's run
/// (`<cronjob>-<scheduled minute>-<suffix>`), with its pod's failure line and no restart: the
/// line says why the Job's pods failed, held below the Job's failure it explains. Restarts
/// shown keep it a crash loop.
#[test]
fn a_failure_line_in_a_report_of_a_failed_job_explains_the_job() {
    let text = "The nightly export job failed with:\n\
        2025-02-11 03:00:12 ERROR open /var/run/secrets/export/key.pem: permission denied";
    let cronjob_pod = "$ kubectl logs cleanup-old-builds-28411230-q2w8x\n\
        panic: runtime error: invalid memory address or nil pointer dereference\n\
        [signal SIGSEGV: segmentation violation code=0x1 addr=0x30 pc=0x13c9ee9]";
    for report in [text, cronjob_pod] {
        let incident = lastmile_intake::incident_from_text(report);
        let found = diagnose(&Facts::of(&incident), &Target::of(&incident)).unwrap();
        assert_held(&found, IN_A_FAILED_JOB, "Job's pod");
    }
    let looping =
        format!("{text}\nWarning  BackOff  kubelet  Back-off restarting failed container export");
    let incident = lastmile_intake::incident_from_text(&looping);
    let found = diagnose(&Facts::of(&incident), &Target::of(&incident)).unwrap();
    assert!(found.diagnosis.confidence >= 0.9, "{:?}", found.diagnosis);
}

/// A finding held at or below `max` whose summary says `says`.
fn assert_held(found: &Found, max: f64, says: &str) {
    assert!(found.diagnosis.confidence <= max, "{:?}", found.diagnosis);
    assert!(
        found.diagnosis.summary.contains(says),
        "{}",
        found.diagnosis.summary
    );
}
