//! Real Go builds for the build tests: a temp workspace with its own GOPATH and module
//! cache (Go's build cache is shared: `go_build_cache`), a local module proxy served from
//! files (`GOPROXY=file://…`: no network), one dependency published there at several versions (and, for a poisoned-proxy case, the
//! same version with other content), and a main module in a git repository so builds are
//! VCS-stamped. Built with the machine's `go` (Debian's `golang-go`, installed by
//! `scripts/install-test-deps`).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, bail};

/// The dependency's module path.
pub const GREET: &str = "example.com/greet";
/// The main module's path.
pub const APP: &str = "example.com/app";

/// A Go workspace in a temp dir.
pub struct GoWork {
    dir: tempfile::TempDir,
}

impl GoWork {
    /// A workspace, or an error when `go` is not installed.
    pub fn new() -> anyhow::Result<Self> {
        let out = Command::new("go")
            .arg("version")
            .output()
            .context("`go` is not installed: run scripts/install-test-deps")?;
        if !out.status.success() {
            bail!("`go version` failed");
        }
        let w = Self {
            dir: tempfile::tempdir()?,
        };
        for d in ["gopath", "proxy", "proxy-poisoned", "app"] {
            std::fs::create_dir_all(w.path(d))?;
        }
        Ok(w)
    }

    /// A path inside the workspace.
    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// Publishes `greet` at `version` to `proxy` (`"proxy"` or `"proxy-poisoned"`), saying
    /// `greeting`.
    pub fn publish(&self, proxy: &str, version: &str, greeting: &str) -> anyhow::Result<()> {
        let dir = self.path(proxy).join(GREET).join("@v");
        std::fs::create_dir_all(&dir)?;
        let go_mod = format!("module {GREET}\n\ngo 1.19\n");
        let source = format!(
            "package greet\n\n// Hello greets.\nfunc Hello() string {{ return {greeting:?} }}\n"
        );
        let prefix = format!("{GREET}@{version}/");
        let zip = zip_stored(&[
            (format!("{prefix}go.mod"), go_mod.as_bytes()),
            (format!("{prefix}greet.go"), source.as_bytes()),
        ]);
        std::fs::write(dir.join(format!("{version}.zip")), zip)?;
        std::fs::write(dir.join(format!("{version}.mod")), &go_mod)?;
        std::fs::write(
            dir.join(format!("{version}.info")),
            format!("{{\"Version\":\"{version}\",\"Time\":\"2026-01-01T00:00:00Z\"}}"),
        )?;
        let list = dir.join("list");
        let mut versions = std::fs::read_to_string(&list).unwrap_or_default();
        if !versions.lines().any(|l| l == version) {
            versions.push_str(version);
            versions.push('\n');
        }
        std::fs::write(list, versions)?;
        Ok(())
    }

    /// Writes the main module requiring `greet` at `version` and commits it.
    pub fn app(&self, version: &str) -> anyhow::Result<()> {
        let app = self.path("app");
        std::fs::write(
            app.join("go.mod"),
            format!("module {APP}\n\ngo 1.19\n\nrequire {GREET} {version}\n"),
        )?;
        std::fs::write(
            app.join("main.go"),
            format!(
                "package main\n\nimport (\n\t\"fmt\"\n\n\t\"{GREET}\"\n)\n\nvar version = \"dev\"\n\nfunc main() {{ fmt.Println(greet.Hello(), version) }}\n"
            ),
        )?;
        std::fs::write(app.join(".gitignore"), "go.sum\n")?;
        if !app.join(".git").exists() {
            self.git(&["init", "-q", "-b", "main"])?;
        }
        self.git(&["add", "-A"])?;
        self.git(&[
            "-c",
            "user.name=ci",
            "-c",
            "user.email=ci@example.com",
            "commit",
            "-q",
            "--allow-empty",
            "-m",
            &format!("app with greet {version}"),
        ])?;
        Ok(())
    }

    /// Changes a tracked file without committing (the build is then `vcs.modified=true`).
    pub fn dirty(&self) -> anyhow::Result<()> {
        let main = self.path("app").join("main.go");
        let mut text = std::fs::read_to_string(&main)?;
        text.push_str("\n// local change\n");
        std::fs::write(main, text)?;
        Ok(())
    }

    fn git(&self, args: &[&str]) -> anyhow::Result<()> {
        let st = Command::new("git")
            .args(args)
            .current_dir(self.path("app"))
            .status()?;
        if !st.success() {
            bail!("git {args:?} failed");
        }
        Ok(())
    }

    /// Builds the app into `out` with extra `go build` flags, fetching modules from `proxy`
    /// into a module cache of its own (`cache_name`), with `GOFLAGS=-mod=mod` and no
    /// checksum database (go.sum is not committed, as in the drift this simulates).
    pub fn build(
        &self,
        out: &Path,
        flags: &[&str],
        proxy: &str,
        cache_name: &str,
    ) -> anyhow::Result<()> {
        self.build_for(out, flags, proxy, cache_name, &[])
    }

    /// As [`Self::build`], with extra environment (`GOOS`/`GOARCH` to cross-compile).
    pub fn build_for(
        &self,
        out: &Path,
        flags: &[&str],
        proxy: &str,
        cache_name: &str,
        env: &[(&str, &str)],
    ) -> anyhow::Result<()> {
        let _ = std::fs::remove_file(self.path("app").join("go.sum"));
        let mut args = vec!["build"];
        args.extend_from_slice(flags);
        let out = out.to_string_lossy();
        args.extend_from_slice(&["-o", &out, "."]);
        self.go_env(&args, proxy, cache_name, env).map(drop)
    }

    /// Writes a key pair as `cosign generate-key-pair` does (`cosign.key`, encrypted with
    /// `password`, and `cosign.pub`) into `dir`, with Go's own scrypt and secretbox
    /// (Debian's golang-golang-x-crypto-dev, GOPATH mode): `tests/fixtures/go/cosignkey`.
    pub fn cosign_key_pair(
        &self,
        dir: &Path,
        password: &str,
    ) -> anyhow::Result<(PathBuf, PathBuf)> {
        let gocode = Path::new("/usr/share/gocode");
        if !gocode.join("src/golang.org/x/crypto/scrypt").is_dir() {
            bail!("golang-golang-x-crypto-dev is not installed: run scripts/install-test-deps");
        }
        let program = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/go/cosignkey/main.go");
        let (key, public) = (dir.join("cosign.key"), dir.join("cosign.pub"));
        let output = Command::new("go")
            .arg("run")
            .arg(&program)
            .args([&key, &public])
            .arg(password)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.path("gopath"))
            .env("GOPATH", gocode)
            .env("GOCACHE", go_build_cache())
            .env("GO111MODULE", "off")
            .env("GOTOOLCHAIN", "local")
            .output()?;
        if !output.status.success() {
            bail!(
                "cosignkey failed: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Ok((key, public))
    }

    /// Runs `go ARGS` in the app directory with the workspace's environment; its stdout.
    pub fn go(&self, args: &[&str], proxy: &str, cache_name: &str) -> anyhow::Result<Vec<u8>> {
        self.go_env(args, proxy, cache_name, &[])
    }

    fn go_env(
        &self,
        args: &[&str],
        proxy: &str,
        cache_name: &str,
        env: &[(&str, &str)],
    ) -> anyhow::Result<Vec<u8>> {
        let modcache = self.path(&format!("modcache-{cache_name}"));
        let output = Command::new("go")
            .args(args)
            .current_dir(self.path("app"))
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.path("gopath"))
            .env("GOPATH", self.path("gopath"))
            .env("GOCACHE", go_build_cache())
            .env("GOMODCACHE", &modcache)
            .env("GOPROXY", format!("file://{}", self.path(proxy).display()))
            .env("GOFLAGS", "-mod=mod -modcacherw")
            .env("GOSUMDB", "off")
            .env("GONOSUMDB", "*")
            .env("GOTOOLCHAIN", "local")
            .env("CGO_ENABLED", "0")
            .envs(env.iter().copied())
            .output()?;
        if !output.status.success() {
            bail!(
                "go {args:?} failed: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Ok(output.stdout)
    }
}

/// Go's build cache, shared by every workspace and test run (`go` keys it by content and
/// locks it, so concurrent builds are safe): the standard library is compiled once per
/// target, not once per test. `$LASTMILE_TOOLS/gocache` (default `~/.cache/lastmile/tools`).
fn go_build_cache() -> PathBuf {
    let tools = std::env::var_os("LASTMILE_TOOLS")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache/lastmile/tools")))
        .unwrap_or_else(std::env::temp_dir);
    tools.join("gocache")
}

/// A zip archive with `files` stored uncompressed (what a module zip needs).
pub fn zip_stored(files: &[(String, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, data) in files {
        let mut crc = flate2::Crc::new();
        crc.update(data);
        let crc = crc.sum();
        let offset = out.len() as u32;
        let size = data.len() as u32;
        let name_len = name.len() as u16;
        // Local file header.
        out.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        out.extend_from_slice(&[20, 0, 0, 0, 0, 0, 0, 0, 0x21, 0]);
        out.extend_from_slice(&crc.to_le_bytes());
        out.extend_from_slice(&size.to_le_bytes());
        out.extend_from_slice(&size.to_le_bytes());
        out.extend_from_slice(&name_len.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(data);
        // Central directory entry.
        central.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
        central.extend_from_slice(&[20, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0x21, 0]);
        central.extend_from_slice(&crc.to_le_bytes());
        central.extend_from_slice(&size.to_le_bytes());
        central.extend_from_slice(&size.to_le_bytes());
        central.extend_from_slice(&name_len.to_le_bytes());
        central.extend_from_slice(&[0; 8]);
        central.extend_from_slice(&0u32.to_le_bytes());
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(name.as_bytes());
    }
    let cd_offset = out.len() as u32;
    let cd_size = central.len() as u32;
    out.extend_from_slice(&central);
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    out.extend_from_slice(&[0; 4]);
    let n = files.len() as u16;
    out.extend_from_slice(&n.to_le_bytes());
    out.extend_from_slice(&n.to_le_bytes());
    out.extend_from_slice(&cd_size.to_le_bytes());
    out.extend_from_slice(&cd_offset.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}
