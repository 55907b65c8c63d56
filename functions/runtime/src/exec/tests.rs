use super::*;

#[test]
fn reads_each_runtime_phrasing() {
    for (line, want) in [
        (
            r#"Error: failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: "/app": stat /app: no such file or directory: unknown"#,
            Failure::NotFound,
        ),
        (
            r#"container_linux.go:262: starting container process caused "exec: \"/entrypoint.sh\": permission denied""#,
            Failure::PermissionDenied,
        ),
        (
            "/bin/sh: 1: /updater.sh: Permission denied",
            Failure::PermissionDenied,
        ),
        (
            "standard_init_linux.go:228: exec user process caused: exec format error",
            Failure::FormatError,
        ),
    ] {
        assert_eq!(classify(line), Some(want), "{line}");
    }
    assert_eq!(
        classify("mkdir: cannot create directory '/data': Permission denied"),
        None
    );
}

#[test]
fn names_the_executable() {
    assert_eq!(
        executable(r#"caused "exec: \"/entrypoint.sh\": permission denied""#).as_deref(),
        Some("/entrypoint.sh")
    );
    assert_eq!(
        executable("/bin/sh: 1: /updater.sh: Permission denied").as_deref(),
        Some("/updater.sh")
    );
    assert_eq!(
        executable("exec /app/server: exec format error").as_deref(),
        Some("/app/server")
    );
    assert_eq!(
        executable("standard_init_linux.go:228: exec user process caused: exec format error"),
        None
    );
}
