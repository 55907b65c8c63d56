//! Kills and memory told in text: a bare exit 137, an OOM kill in prose, 137 beside memory
//! said to grow, and 137 beside an exec probe that cannot run.

use super::*;

/// Exit code 137 with no other reason, even told in prose, is the OOM killer's: the OOM
/// finding leads, not a generic crash loop.
#[test]
fn a_bare_exit_137_is_an_oom_kill_not_a_crash_loop() {
    let d = diagnose(
        &text(
            "the test pod failed: \"command terminated with exit code 137\"; memory limit is 2Gi",
        ),
        &ClusterSnapshot::default(),
    );
    assert_eq!(d[0].class, "runtime.oom_killed", "{d:#?}");
}

/// An OOM kill told in prose (no `OOMKilled` field): the limit the report states is used for
/// the new-limit advice.
#[test]
fn an_oom_kill_told_in_prose_uses_the_stated_limit() {
    let d = diagnose(
        &text(
            "Problem: the operator's controller is OOM killed.\nresources:\n  limits:\n    memory: 30Mi\nIts memory usage averages 55Mi.",
        ),
        &ClusterSnapshot::default(),
    );
    assert_eq!(d[0].class, "runtime.oom_killed", "{d:#?}");
    assert!(d[0].summary.contains("limit of 30Mi"), "{}", d[0].summary);
    let d = diagnose(
        &text("The app needs about 900Mi on startup, its memory limit is 512Mi, and it restarts."),
        &ClusterSnapshot::default(),
    );
    assert_eq!(d[0].class, "runtime.oom_killed", "{d:#?}");
}

/// Exit code 137 reported with reason `Error` beside memory said to grow is the OOM
/// killer (older kubelets named it `Error`); an `Error`/137 kill told with no memory
/// growth, or memory growth without a kill, is not.
#[test]
fn a_137_beside_memory_said_to_grow_is_an_oom_kill() {
    for t in [
        "Last State: Terminated\n  Reason: Error\n  Exit Code: 137\nThe worker has a memory leak: its RSS keeps climbing until it dies.",
        "The batch importer uses too much memory on big files and then exits with code 137 (reason: Error, not OOMKilled).",
    ] {
        assert_eq!(first_class(t), Class::RUNTIME_OOM_KILLED, "{t}");
    }
    for t in [
        "Last State: Terminated\n  Reason: Error\n  Exit Code: 137\nThe importer is killed after its preStop hook times out.",
        "The importer uses too much memory on big files but finishes.",
    ] {
        assert_ne!(first_class(t), Class::RUNTIME_OOM_KILLED, "{t}");
    }
}

/// The runtime failing the kubelet's ExecSync (an exec probe) beside a container killed
/// with 137 is a failing probe, not a bare crash loop; an ExecSync error with no kill is
/// not this reading.
#[test]
fn an_exec_probe_that_cannot_run_beside_a_137_kill_is_a_failing_probe() {
    let t = "Last State:     Terminated\n  Reason:       Error\n  Exit Code:    137\nRestart Count:  2\ncrio[812]: level=error msg=\"ExecSync 9f1c… error: command timed out\" id=9f1c";
    assert_eq!(first_class(t), Class::RUNTIME_PROBE_FAILING);
    let no_kill = "crio[812]: level=error msg=\"ExecSync 9f1c… error: command timed out\" id=9f1c\nthe pod is Running and Ready";
    assert_ne!(first_class(no_kill), Class::RUNTIME_PROBE_FAILING);
}

/// A liveness probe refused while the app starts, told in words beside a SIGKILL (137,
/// reason `Error`): the refused port is the container's own, so the probe leads, not a
/// crash loop blamed on an unreachable dependency. The app's own refused connection still
/// reads as one.
#[test]
fn a_probe_refused_beside_a_137_kill_is_the_probe_not_a_dependency() {
    let t = "On a clean install the liveness probe on http://:8080/healthy fails with \"connection refused\" because the health server is not listening yet.\n    Last State:     Terminated\n      Reason:       Error\n      Exit Code:    137\n    Restart Count:  1\n    Liveness:   http-get http://[:8080]/healthy delay=10s timeout=5s period=30s #success=1 #failure=3";
    assert_eq!(first_class(t), Class::RUNTIME_PROBE_FAILING, "{t}");
    let t = "Back-off restarting failed container\n    Last State:     Terminated\n      Reason:       Error\n      Exit Code:    1\nError: connect ECONNREFUSED 10.0.3.7:5432 (postgres)";
    assert_eq!(first_class(t), Class::RUNTIME_CRASHLOOP, "{t}");
}
