use super::*;

#[test]
fn quantities_and_new_limits() {
    assert_eq!(bytes("512Mi"), Some(512 * 1024 * 1024));
    assert_eq!(bytes("1Gi"), Some(1 << 30));
    assert_eq!(bytes("512M"), Some(512_000_000));
    assert_eq!(bytes("1.5Gi"), Some(3 << 29));
    assert_eq!(bytes("lots"), None);
    let mi = |n: u64| n * 1024 * 1024;
    assert_eq!(human(new_limit(mi(90), Some(mi(60)))), "192Mi");
    assert_eq!(human(new_limit(mi(30), None)), "64Mi");
    assert_eq!(human(new_limit(mi(512), None)), "768Mi");
    assert_eq!(human(new_limit(mi(1024), None)), "1.5Gi");
    // Absurd quantities saturate instead of overflowing.
    let huge = bytes("99999999Ti").unwrap();
    assert!(new_limit(huge, Some(huge)) >= huge);
    // Never below the request.
    assert_eq!(human(new_limit(mi(100), Some(mi(300)))), "320Mi");
}

/// The OOM killer told in words, including the frequent `OMM` misspelling; other kills and
/// words that only contain the letters are not it.
#[test]
fn the_oom_killer_told_in_words() {
    for said in [
        "Hit OMM killed of operator controller on my k8s env",
        "so OMMKiller was acting, leaving the pod in CrashLoopBackOff",
        "the kernel's OOM killer ends the worker every few minutes",
        "the process gets oom-killed under load",
        "it was killed by the OOM",
        // OOM as a verb or a noun, the kernel's lines, a kill said to be for memory.
        "the exporter pods keep getting OOMed after an hour",
        "after the upgrade the sidecar goes OOM on every node",
        "[12345.678] oom_reaper: reaped process 4242 (java), now anon-rss:0kB",
        "we see OOM events in the node's dmesg for the agent",
        "the worker is killed due to memory every night",
        "the api pods are OOM-ing under load",
        "Container was terminated due to OOM",
        "[ 8120.4471] Task in /kubepods/burstable/pod6f1c/0a7e killed as a result of limit of /kubepods/burstable/pod6f1c",
        "[ 8120.4472] memory: usage 262144kB, limit 262144kB, failcnt 5117",
        "time=\"2024-02-01T10:00:00Z\" level=info msg=\"event forwarded\" topic=/tasks/oom",
        "2024-02-01T10:00:00.000000000Z container oom 5d2c9a (image=api:2.1, name=api)",
        "Warning  SystemOOM  node/ip-10-0-1-5  System OOM encountered, victim process: node, pid: 4242",
    ] {
        assert!(OOM_SAID.is_match(said), "{said}");
    }
    for other in [
        "killed by SIGTERM on shutdown",
        "the room kill switch",
        "zoom killed it",
        "the room was doomed",
        "oom_score_adj is -997 for the kubelet",
    ] {
        assert!(!OOM_SAID.is_match(other), "{other}");
    }
    compile_all();
}

/// Memory said to be above the limit: a YAML limits block or a sentence, against a stated
/// usage or a need "more than" the limit; usage under the limit is not it.
#[test]
fn usage_said_to_exceed_the_limit() {
    let yaml = "resources:\n  limits:\n    cpu: 100m\n    memory: 30Mi\n  requests:\n    memory: 20Mi\n2. the memory usage average on 55Mi in the cluster.";
    let u = usage_above_limit(yaml).unwrap();
    assert_eq!(
        (u.limit_text.as_str(), u.used_text.as_str()),
        ("30Mi", "55Mi")
    );
    let prose = "on startup it needs more than 100 MB (which was the limit)";
    let u = usage_above_limit(prose).unwrap();
    assert_eq!(u.used_text, "more than 100 MB");
    assert_eq!(u.limit, 100_000_000);
    let sentence = "The memory limit is 512Mi but the JVM peaks at 700Mi during GC.";
    assert_eq!(usage_above_limit(sentence).unwrap().used_text, "700Mi");
    assert!(usage_above_limit("memory limit of 1Gi; it uses 300Mi at rest").is_none());
    assert!(usage_above_limit("it uses 300Mi at rest").is_none());
}

/// Exit 137 and memory growth told in words; other numbers and flat memory are not.
#[test]
fn exit_137_and_memory_growth_told_in_words() {
    for said in [
        "Exit Code: 137",
        "it exited with 137",
        "I still get the 137 error code",
    ] {
        assert!(EXIT_137_SAID.is_match(said), "{said}");
    }
    assert!(!EXIT_137_SAID.is_match("listening on 10.0.0.137:80"));
    for said in [
        "the script eats memory until it is killed",
        "a memory leak in the parser",
        "it hits its memory limit within minutes",
    ] {
        assert!(MEMORY_GROWTH_SAID.is_match(said), "{said}");
    }
    assert!(!MEMORY_GROWTH_SAID.is_match("memory usage is flat at 200Mi"));
}

/// A report that rules the OOM kill out ("not OOMKilled", "wasn't an OOM") beside a
/// liveness probe that kills the container is a failing probe; the denial is no OOM line.
#[test]
fn an_oom_kill_ruled_out_in_words_is_no_oom_kill() {
    for denied in [
        "Exit Code: 143   (SIGTERM, not OOMKilled)",
        "It wasn't an OOM kill: memory stayed flat.",
        "no out-of-memory events in dmesg",
        "terminated by the kubelet rather than by the OOM killer",
    ] {
        assert!(OOM_DENIED.is_match(denied), "{denied}");
    }
    for said in ["Reason: OOMKilled", "the worker was OOM killed twice"] {
        assert!(!OOM_DENIED.is_match(said), "{said}");
    }
    let probe = "The api pod restarted five times overnight. It was not an OOM kill: memory sat at 300Mi of its 1Gi limit.\nWarning  Unhealthy  kubelet  Liveness probe failed: Get \"http://10.0.0.5:8080/healthz\": context deadline exceeded\nNormal   Killing    kubelet  Container api failed liveness probe, will be restarted";
    assert_eq!(
        crate::tests::first_class(probe),
        Class::RUNTIME_PROBE_FAILING,
        "{probe}"
    );
}
