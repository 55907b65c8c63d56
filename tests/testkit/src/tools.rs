//! What every server harness needs: finding the installed binary and a free port.

use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

/// A free TCP port on the loopback interface (bound, then released for the server to take).
pub fn free_port() -> anyhow::Result<u16> {
    let listener =
        TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).context("finding a free loopback port")?;
    Ok(listener.local_addr()?.port())
}

/// True when `path` is an executable regular file.
pub fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// The directory `scripts/install-test-deps` installs into: `$LASTMILE_TOOLS`, else
/// `~/.cache/lastmile/tools`.
pub fn tools_dir() -> anyhow::Result<PathBuf> {
    match std::env::var_os("LASTMILE_TOOLS").filter(|p| !p.is_empty()) {
        Some(dir) => Ok(PathBuf::from(dir)),
        None => {
            let home =
                std::env::var_os("HOME").context("HOME is not set, cannot find the tools cache")?;
            Ok(PathBuf::from(home).join(".cache/lastmile/tools"))
        }
    }
}

/// Finds a server binary: the path in the environment variable `env` when set (it must be
/// executable), else `fallback`. The error tells the reader to run the install script.
pub fn find_binary(env: &str, fallback: &Path, what: &str) -> anyhow::Result<PathBuf> {
    if let Some(path) = std::env::var_os(env).filter(|p| !p.is_empty()) {
        let path = PathBuf::from(path);
        if is_executable(&path) {
            return Ok(path);
        }
        bail!(
            "{env}={} is not an executable file; run scripts/install-test-deps and export what it prints",
            path.display()
        );
    }
    if is_executable(fallback) {
        return Ok(fallback.to_path_buf());
    }
    bail!(
        "{what} not found (neither {env} nor {}); run scripts/install-test-deps first",
        fallback.display()
    )
}
