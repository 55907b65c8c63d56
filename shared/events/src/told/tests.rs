use super::host_limit_refused;

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
