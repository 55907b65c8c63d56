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

/// A path that could not be executed, told by whatever tried to run it rather than by the
/// runtime's `starting container process` line: runc 1.1+ in the container log, an init
/// wrapper, an overlay's exec helper.
#[test]
fn an_init_wrapper_that_cannot_exec_the_entrypoint_is_an_exec_failure() {
    compile_all();
    for (line, want, path) in [
        (
            "exec /docker-entrypoint.sh: no such file or directory",
            Failure::NotFound,
            "/docker-entrypoint.sh",
        ),
        (
            "[dumb-init] /opt/app/start.sh: Permission denied",
            Failure::PermissionDenied,
            "/opt/app/start.sh",
        ),
        (
            "s6-overlay-suexec: fatal: unable to exec /init: No such file or directory",
            Failure::NotFound,
            "/init",
        ),
    ] {
        assert_eq!(classify(line), Some(want), "{line}");
        assert_eq!(executable(line).as_deref(), Some(path), "{line}");
    }
    // The app's own file errors and exec into a stopped container are not the entrypoint.
    for line in [
        "open /etc/app/settings.toml: no such file or directory",
        "error: exec failed: container not running",
        "kubectl exec: pod web-0 not found",
    ] {
        assert_eq!(classify(line), None, "{line}");
    }
}
