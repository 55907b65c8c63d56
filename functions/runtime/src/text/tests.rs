use super::*;

const DESCRIBE: &str = "Name:         web-7d4b9c-x2x\nNamespace:    shop\nInit Containers:\n  init:\n    State:          Terminated\n      Reason:       Completed\n      Exit Code:    0\nContainers:\n  web:\n    Image:          ghcr.io/acme/web:1.2\n    Port:           8080/TCP\n    State:          Waiting\n      Reason:       CrashLoopBackOff\n    Last State:     Terminated\n      Reason:       OOMKilled\n      Exit Code:    137\n    Ready:          False\n    Restart Count:  7\n    Limits:\n      cpu:     500m\n      memory:  256Mi\n    Requests:\n      cpu:        100m\n      memory:     128Mi\n    Liveness:   http-get http://:9090/healthz delay=5s timeout=1s period=10s #success=1 #failure=3\n    Readiness:  tcp-socket :8080 delay=0s timeout=1s period=10s #success=1 #failure=3\nConditions:\n  Type   Status\n  Ready  False\n";

#[test]
fn reads_the_main_container_not_the_init_container() {
    let f = describe_facts(DESCRIBE);
    assert_eq!(f.container.as_deref(), Some("web"));
    assert_eq!(f.waiting_reason(), Some("CrashLoopBackOff"));
    assert_eq!(
        (f.exit_code, f.exit_reason.as_deref()),
        (Some(137), Some("OOMKilled"))
    );
    assert_eq!(f.restarts, Some(7));
    assert_eq!(
        (f.mem_limit.as_deref(), f.mem_request.as_deref()),
        (Some("256Mi"), Some("128Mi"))
    );
    assert_eq!(f.ports, vec![(None, 8080)]);
    assert_eq!(f.probes.len(), 2);
    assert_eq!(
        (
            f.probes[0].kind,
            f.probes[0].port,
            f.probes[0].path.as_deref()
        ),
        ("liveness", Some(9090), Some("/healthz"))
    );
    assert_eq!(
        (f.probes[1].action.as_str(), f.probes[1].port),
        ("tcp-socket", Some(8080))
    );
}

#[test]
fn every_pattern_compiles() {
    for p in [&PROBE, &TARGET, &PORT, &KEY_VALUE, &EXIT_CODE, &EXIT_137] {
        LazyLock::force(p);
    }
}

#[test]
fn exit_137_in_prose_is_read_but_other_prose_codes_are_not() {
    for text in [
        "* I noticed \"command terminated with exit code 137\" in some test failure",
        "the pod exited with 137 again after the upgrade",
    ] {
        assert_eq!(describe_facts(text).exit_code, Some(137), "{text}");
    }
    assert_eq!(
        describe_facts("build failed with exit code 1").exit_code,
        None
    );
    assert_eq!(
        describe_facts("error code 1370 from the API").exit_code,
        None
    );
}

#[test]
fn a_bare_status_excerpt_still_gives_the_exit_code() {
    let f = describe_facts(
        "    lastState:\n      terminated:\n        exitCode: 137\n        reason: OOMKilled\n    restartCount: 2\n",
    );
    assert_eq!((f.exit_code, f.restarts), (Some(137), Some(2)));
}
