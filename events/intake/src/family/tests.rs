use super::*;

#[test]
fn routes_typical_texts() {
    assert_eq!(
        guess_family("Warning  FailedScheduling  0/3 nodes are available: 3 Insufficient cpu."),
        IncidentFamily::Pending
    );
    assert_eq!(
        guess_family("Back-off pulling image \"ghcr.io/acme/api:v2\": ImagePullBackOff"),
        IncidentFamily::ImagePull
    );
    assert_eq!(
        guess_family("verifying example.com/m@v1.0.0: checksum mismatch\nSECURITY ERROR"),
        IncidentFamily::Build
    );
    assert_eq!(
        guess_family("Warning  DeadlineExceeded  Job was active longer than specified deadline"),
        IncidentFamily::Job
    );
    assert_eq!(
        guess_family("pod stuck in Init:0/1\nwaiting for db"),
        IncidentFamily::Init
    );
    assert_eq!(guess_family(""), IncidentFamily::Pending);
    assert_eq!(
        guess_family(
            "Warning  InspectFailed  Failed to inspect image \"app:1\": ImageInspectError"
        ),
        IncidentFamily::ImagePull
    );
}

#[test]
fn routes_runtime_texts() {
    for text in [
        "Warning  BackOff  3m (x41 over 10m)  kubelet  Back-off restarting failed container\n    State:          Waiting\n      Reason:       CrashLoopBackOff",
        "Warning  Failed  2s (x5 over 54s)  kubelet  Error: couldn't find key VALUE in Secret default/app",
        "    Last State:     Terminated\n      Reason:       OOMKilled\n      Exit Code:    137",
        "Warning  FailedMount  1m  kubelet  MountVolume.SetUp failed for volume \"cfg\" : configmap \"app\" not found",
        "Warning  Unhealthy  10s (x9 over 1m)  kubelet  Readiness probe failed: HTTP probe failed with statuscode: 404",
        "Error: failed to start container \"app\": OCI runtime create failed: starting container process caused: exec: \"/app\": executable file not found in $PATH",
    ] {
        assert_eq!(guess_family(text), IncidentFamily::Runtime, "{text}");
    }
    assert_eq!(
        guess_family(
            "OCI runtime create failed: runc create failed: unable to start container process: error during container init: exec: \"/run.sh\": permission denied"
        ),
        IncidentFamily::Runtime
    );
    // A main container's crash loop told in prose outweighs a DNS check mentioned beside it;
    // an init container's crash loop told so stays an init incident.
    assert_eq!(
        guess_family(
            "The wait step only runs nslookup on the Service, so the api starts before the database listens, times out waiting for a connection and is crashlooping."
        ),
        IncidentFamily::Runtime
    );
    assert_eq!(
        guess_family("the init container `wait-db` is crash-looping: nslookup db fails"),
        IncidentFamily::Init
    );
    // An init container's crash loop stays an init incident.
    assert_eq!(
        guess_family("web-1  0/1  Init:CrashLoopBackOff  5  3m\ninit containers: wait-db"),
        IncidentFamily::Init
    );
}

/// An init container's crash loop told in prose outweighs the runtime words of its failing
/// step (a permission error); a main container's crash loop stays the runtime's.
#[test]
fn a_crash_loop_told_about_an_init_container_routes_to_init() {
    assert_eq!(
        guess_family(
            "After the upgrade the pod is crashlooping in its fix-perms init container:\nmkdir: cannot create directory '/var/lib/app/cache': Permission denied"
        ),
        IncidentFamily::Init
    );
    assert_eq!(
        guess_family(
            "The api container is crash-looping: open /var/lib/app/cache: permission denied"
        ),
        IncidentFamily::Runtime
    );
}
