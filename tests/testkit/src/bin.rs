//! The `lastmile` binary, for tests that run it as users do.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

/// Path to a built `lastmile` binary (debug profile), building it once if needed.
///
/// `cargo test` only builds binaries of the package under test, and this crate is not the
/// binary's package, so the first caller runs `cargo build -p lastmile` (cheap when fresh).
pub fn lastmile_bin() -> anyhow::Result<PathBuf> {
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    BUILT
        .get_or_init(|| build("lastmile", "lastmile"))
        .clone()
        .map_err(anyhow::Error::msg)
}

/// Path to a built `lastmile-wait` binary (debug profile), building it once if needed.
pub fn lastmile_wait_bin() -> anyhow::Result<PathBuf> {
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    BUILT
        .get_or_init(|| build("lastmile-wait", "lastmile-wait"))
        .clone()
        .map_err(anyhow::Error::msg)
}

/// `cargo build -p PACKAGE --bin BIN`, and the binary's path.
fn build(package: &str, bin: &str) -> Result<PathBuf, String> {
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace.join("target"));
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .args(["build", "--quiet", "-p", package, "--bin", bin])
        .current_dir(&workspace)
        .status()
        .map_err(|e| format!("cannot run cargo to build {bin}: {e}"))?;
    if !status.success() {
        return Err(format!("cargo build -p {package} failed: {status}"));
    }
    let path = target.join("debug").join(bin);
    if path.exists() {
        Ok(path)
    } else {
        Err(format!("{} not found after building", path.display()))
    }
}
