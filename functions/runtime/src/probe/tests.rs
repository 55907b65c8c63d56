use super::*;

#[test]
fn every_pattern_compiles() {
    for p in [
        &FAILED,
        &URL,
        &STATUS,
        &PROBE_ANSWER,
        &LOGGED_PATH,
        &LISTENING,
        &PROBE_SAID,
        &STATUS_SAID,
        &EXEC_SYNC_FAILED,
    ] {
        LazyLock::force(p);
    }
    told::compile_all();
}

/// An app's access log answering `kube-probe` with 503 is a failing probe.
#[test]
fn probe_requests_answered_with_errors_in_the_apps_log() {
    for line in [
        "level=info msg=completed handling request http_request=map[headers:map[user-agent:kube-probe/1.18+] method:GET path:/health/ready] http_response=map[status:503 text_status:Service Unavailable]",
        r#"10.0.0.1 - - [24/May/2021:10:06:21 +0000] "GET /healthz HTTP/1.1" 500 12 "-" "kube-probe/1.27""#,
    ] {
        let caps = PROBE_ANSWER.captures(line).unwrap();
        assert!(caps.get(1).or(caps.get(2)).is_some(), "{line}");
        assert!(LOGGED_PATH.is_match(line), "{line}");
    }
    assert!(!PROBE_ANSWER.is_match(r#""GET /healthz HTTP/1.1" 200 2 "-" "kube-probe/1.27""#));
}

#[test]
fn reads_probe_failures() {
    let f = failure(r#"Readiness probe failed: Get "http://10.42.1.48:8080/ready": dial tcp 10.42.1.48:8080: connect: connection refused"#).unwrap();
    assert_eq!(
        (f.kind.as_str(), f.port, f.path.as_deref(), f.outcome),
        ("readiness", Some(8080), Some("/ready"), Outcome::Refused)
    );
    let f = failure("Liveness probe failed: HTTP probe failed with statuscode: 404").unwrap();
    assert_eq!(f.outcome, Outcome::Status(404));
    let f = failure(r#"Readiness probe failed: Get "http://10.130.6.151:8080/health/ready": context deadline exceeded (Client.Timeout exceeded while awaiting headers)"#).unwrap();
    assert_eq!((f.port, f.outcome), (Some(8080), Outcome::Timeout));
    assert!(failure("Started container web").is_none());
}

/// A probe described beside an HTTP error status, in a few wordings (and the common
/// "readyness" misspelling); a status without a probe, or a probe without one, is not it.
#[test]
fn a_probe_answered_with_an_http_error_told_in_words() {
    let facts = |t: &str| Facts {
        lines: t.lines().map(str::to_owned).collect(),
        ..Facts::default()
    };
    for (t, readiness) in [
        (
            "My pod is getting 503 http status but it is not restarted. I configured a readyness prob with the health check url.",
            true,
        ),
        (
            "readinessProbe on /actuator/health returns 503 after the database restarts",
            true,
        ),
        (
            "The liveness probe gets HTTP 500 from /healthz and the container restarts every minute.",
            false,
        ),
    ] {
        let found = status_told(&facts(t), None).unwrap_or_else(|| panic!("{t}"));
        assert_eq!(found.diagnosis.class, Class::RUNTIME_PROBE_FAILING, "{t}");
        assert_eq!(
            found.diagnosis.summary.contains("never restarts"),
            readiness,
            "{t}"
        );
    }
    for t in [
        "the ingress returns 503 for every request",
        "the readiness probe passes and the pod is Ready",
    ] {
        assert!(status_told(&facts(t), None).is_none(), "{t}");
    }
}

/// Probes said to aim at the wrong port or endpoint, beside pods said not to become ready or
/// to restart; a wrong port said of something else, or a probe fixed, is not it.
#[test]
fn probes_told_to_aim_at_the_wrong_target() {
    let facts = |t: &str| Facts {
        lines: t.lines().map(str::to_owned).collect(),
        ..Facts::default()
    };
    for t in [
        "The gateway's liveness probe checks the service port 80 instead of containerPort 8080, so the pods get restarted every few minutes.",
        "After the chart upgrade our workers stay 0/1 ready: the readiness probes use an incorrect path.",
        "The pods keep restarting: the health checks hit the wrong endpoint.",
    ] {
        let found = wrong_target_told(&facts(t), None).unwrap_or_else(|| panic!("{t}"));
        assert_eq!(found.diagnosis.class, Class::RUNTIME_PROBE_FAILING, "{t}");
    }
    for t in [
        "The ingress points at the wrong port, so requests fail with 502.",
        "We fixed the probes; the pods are Ready now.",
        // A health check named, nothing said wrong about its target.
        "The upgrade fails: the upgrade-health-check job exceeds its 15 seconds timeout and is not ready in time.",
    ] {
        assert!(wrong_target_told(&facts(t), None).is_none(), "{t}");
    }
}
