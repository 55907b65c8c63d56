//! The targets and how each is probed: a TCP connect, an HTTP GET answered 2xx/3xx, a DNS
//! name that resolves, a Job whose `Complete` condition is true (Kubernetes API over HTTPS
//! with the pod's service-account token and CA).

use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// First retry delay; doubled per failure up to [`MAX_DELAY`], each randomised to 50–100 %.
const FIRST_DELAY: Duration = Duration::from_millis(200);
const MAX_DELAY: Duration = Duration::from_secs(5);
/// Longest one attempt may take (connect, TLS, request, answer).
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(3);
/// Most response bytes read.
const MAX_RESPONSE: u64 = 1024 * 1024;
const SA_DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

/// One thing to wait for.
#[derive(Debug, Clone)]
pub enum Target {
    /// `tcp://host:port`: a TCP connection is accepted.
    Tcp { host: String, port: u16 },
    /// `http[s]://host[:port]/path`: a GET is answered 2xx or 3xx.
    Http {
        tls: bool,
        host: String,
        port: u16,
        path: String,
    },
    /// `dns:name`: the name resolves.
    Dns { name: String },
    /// `job:[namespace/]name`: the Job completed.
    Job { namespace: String, name: String },
}

impl Target {
    /// Parses one command-line target.
    pub fn parse(s: &str) -> Result<Self, BadTarget> {
        let bad = |why: &'static str| BadTarget {
            target: s.to_owned(),
            want: why,
        };
        if let Some(rest) = s.strip_prefix("tcp://") {
            let (host, port) = host_port(rest, None).ok_or_else(|| bad("want tcp://HOST:PORT"))?;
            return Ok(Self::Tcp { host, port });
        }
        for (scheme, tls, default) in [("http://", false, 80), ("https://", true, 443)] {
            if let Some(rest) = s.strip_prefix(scheme) {
                let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
                let (host, port) = host_port(authority, Some(default))
                    .ok_or_else(|| bad("want http://HOST[:PORT]/PATH"))?;
                let path = if path.is_empty() { "/" } else { path }.to_owned();
                return Ok(Self::Http {
                    tls,
                    host,
                    port,
                    path,
                });
            }
        }
        if let Some(name) = s.strip_prefix("dns:") {
            if name.is_empty() {
                return Err(bad("want dns:NAME"));
            }
            return Ok(Self::Dns {
                name: name.to_owned(),
            });
        }
        if let Some(job) = s.strip_prefix("job:") {
            let (namespace, name) = match job.split_once('/') {
                Some((ns, name)) => (ns.to_owned(), name.to_owned()),
                None => (own_namespace(), job.to_owned()),
            };
            if name.is_empty() || namespace.is_empty() {
                return Err(bad("want job:NAMESPACE/NAME"));
            }
            return Ok(Self::Job { namespace, name });
        }
        Err(bad("use tcp://, http://, https://, dns: or job:"))
    }
}

/// A command-line target that [`Target::parse`] could not read: the text given and
/// the form it should have had.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadTarget {
    target: String,
    want: &'static str,
}

impl fmt::Display for BadTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "bad target {:?}: {}", self.target, self.want)
    }
}

impl std::error::Error for BadTarget {}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Tcp { host, port } => write!(f, "tcp://{host}:{port}"),
            Self::Http {
                tls,
                host,
                port,
                path,
            } => {
                write!(
                    f,
                    "{}://{host}:{port}{path}",
                    if *tls { "https" } else { "http" }
                )
            }
            Self::Dns { name } => write!(f, "dns:{name}"),
            Self::Job { namespace, name } => write!(f, "job:{namespace}/{name}"),
        }
    }
}

fn host_port(s: &str, default: Option<u16>) -> Option<(String, u16)> {
    let (host, port) = match s.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || p.chars().all(|c| c.is_ascii_digit()) => {
            (h, p.parse().ok()?)
        }
        _ => (s, default?),
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    (!host.is_empty()).then(|| (host.to_owned(), port))
}

fn own_namespace() -> String {
    std::fs::read_to_string(format!("{}/namespace", sa_dir()))
        .map(|s| s.trim().to_owned())
        .unwrap_or_default()
}

fn sa_dir() -> String {
    std::env::var("LASTMILE_WAIT_SA_DIR").unwrap_or_else(|_| SA_DIR.to_owned())
}

/// What happened so far to one target.
#[derive(Debug, Clone, Default)]
pub struct TargetState {
    /// Attempts made.
    pub attempts: u32,
    /// The last attempt's error.
    pub last_error: Option<String>,
    /// When it answered, from the start.
    pub up_after: Option<Duration>,
}

/// Probes `target` until it answers (true) or `deadline` passes (false), recording each
/// attempt in `state`.
pub fn wait_for(target: &Target, deadline: Instant, state: &Mutex<TargetState>) -> bool {
    let started = Instant::now();
    let mut delay = FIRST_DELAY;
    let random = std::collections::hash_map::RandomState::new();
    let mut n: u64 = 0;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return false;
        }
        let result = probe(target, left.min(ATTEMPT_TIMEOUT));
        if let Ok(mut s) = state.lock() {
            s.attempts += 1;
            match &result {
                Ok(()) => s.up_after = Some(started.elapsed()),
                Err(e) => s.last_error = Some(e.clone()),
            }
        }
        if result.is_ok() {
            return true;
        }
        // Full delay between 50 % and 100 % of the backoff step (jitter spreads retries of
        // many pods waiting on one dependency).
        n += 1;
        let mut h = random.build_hasher();
        h.write_u64(n);
        let fraction = 0.5 + (h.finish() % 1000) as f64 / 2000.0;
        let sleep = delay
            .mul_f64(fraction)
            .min(deadline.saturating_duration_since(Instant::now()));
        std::thread::sleep(sleep);
        delay = (delay * 2).min(MAX_DELAY);
    }
}

fn probe(target: &Target, timeout: Duration) -> Result<(), String> {
    match target {
        Target::Tcp { host, port } => connect(host, *port, timeout).map(drop),
        Target::Dns { name } => resolve(name, 0).map(drop),
        Target::Http {
            tls,
            host,
            port,
            path,
        } => {
            let (status, _) = get(*tls, host, *port, path, None, timeout)?;
            if (200..400).contains(&status) {
                Ok(())
            } else {
                Err(format!("HTTP {status}"))
            }
        }
        Target::Job { namespace, name } => job_complete(namespace, name, timeout),
    }
}

fn resolve(host: &str, port: u16) -> Result<Vec<SocketAddr>, String> {
    let addrs: Vec<SocketAddr> = (host, port)
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {host}: {e}"))?
        .collect();
    if addrs.is_empty() {
        return Err(format!("cannot resolve {host}: no address"));
    }
    Ok(addrs)
}

fn connect(host: &str, port: u16, timeout: Duration) -> Result<TcpStream, String> {
    let mut last = String::new();
    for addr in resolve(host, port)? {
        match TcpStream::connect_timeout(&addr, timeout) {
            Ok(s) => {
                let _ = s.set_read_timeout(Some(timeout));
                let _ = s.set_write_timeout(Some(timeout));
                return Ok(s);
            }
            Err(e) => last = format!("{addr}: {e}"),
        }
    }
    Err(last)
}

/// A GET over HTTP/1.1 (TLS when `tls`): status and body.
fn get(
    tls: bool,
    host: &str,
    port: u16,
    path: &str,
    bearer: Option<&str>,
    timeout: Duration,
) -> Result<(u16, String), String> {
    let stream = connect(host, port, timeout)?;
    let auth = bearer
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: lastmile-wait\r\nAccept: application/json, */*\r\n{auth}Connection: close\r\n\r\n"
    );
    let mut raw = Vec::new();
    let io = |e: std::io::Error| format!("{host}:{port}: {e}");
    if tls {
        let config = tls_config()?;
        let name =
            rustls::pki_types::ServerName::try_from(host.to_owned()).map_err(|e| e.to_string())?;
        let conn = rustls::ClientConnection::new(config, name).map_err(|e| e.to_string())?;
        let mut s = rustls::StreamOwned::new(conn, stream);
        s.write_all(request.as_bytes()).map_err(io)?;
        // Servers that close without close_notify still sent a whole answer.
        match s.take(MAX_RESPONSE).read_to_end(&mut raw) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && !raw.is_empty() => {}
            Err(e) => return Err(io(e)),
        }
    } else {
        let mut s = stream;
        s.write_all(request.as_bytes()).map_err(io)?;
        s.take(MAX_RESPONSE).read_to_end(&mut raw).map_err(io)?;
    }
    let text = String::from_utf8_lossy(&raw);
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("{host}:{port}: not an HTTP answer"))?;
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    let body = if text
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(&body)
    } else {
        body
    };
    Ok((status, body))
}

fn dechunk(body: &str) -> String {
    let mut out = String::new();
    let mut rest = body;
    while let Some((size, after)) = rest.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if n == 0 || after.len() < n {
            break;
        }
        out.push_str(&after[..n]);
        rest = after[n..].trim_start_matches("\r\n");
    }
    out
}

/// TLS trusting `LASTMILE_WAIT_CACERT` or the service account's CA.
fn tls_config() -> Result<Arc<rustls::ClientConfig>, String> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let path =
        std::env::var("LASTMILE_WAIT_CACERT").unwrap_or_else(|_| format!("{}/ca.crt", sa_dir()));
    let mut roots = rustls::RootCertStore::empty();
    let certs = CertificateDer::pem_file_iter(&path).map_err(|e| format!("CA {path}: {e}"))?;
    for cert in certs {
        roots
            .add(cert.map_err(|e| format!("CA {path}: {e}"))?)
            .map_err(|e| format!("CA {path}: {e}"))?;
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// The Job's state from the API server the pod runs under (`KUBERNETES_SERVICE_HOST`/`PORT`).
fn job_complete(namespace: &str, name: &str, timeout: Duration) -> Result<(), String> {
    let host = std::env::var("KUBERNETES_SERVICE_HOST")
        .map_err(|_| "KUBERNETES_SERVICE_HOST is not set (not in a pod?)".to_owned())?;
    let port: u16 = std::env::var("KUBERNETES_SERVICE_PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(443);
    let token_file = format!("{}/token", sa_dir());
    let token = std::fs::read_to_string(&token_file)
        .map_err(|e| format!("service-account token {token_file}: {e}"))?;
    let path = format!("/apis/batch/v1/namespaces/{namespace}/jobs/{name}");
    let (status, body) = get(true, &host, port, &path, Some(token.trim()), timeout)?;
    match status {
        200 => {}
        404 => return Err(format!("Job {namespace}/{name} does not exist")),
        401 | 403 => {
            return Err(format!(
                "HTTP {status}: the service account may not get jobs in {namespace} (RBAC)"
            ));
        }
        s => return Err(format!("HTTP {s} from the API server")),
    }
    let job: serde_json::Value =
        serde_json::from_str(&body).map_err(|e| format!("Job JSON: {e}"))?;
    let condition = |ty: &str| {
        job["status"]["conditions"]
            .as_array()
            .and_then(|cs| cs.iter().find(|c| c["type"] == ty && c["status"] == "True"))
    };
    if condition("Complete").is_some() {
        return Ok(());
    }
    if let Some(failed) = condition("Failed") {
        return Err(format!(
            "Job {namespace}/{name} failed: {}",
            failed["reason"].as_str().unwrap_or("Failed")
        ));
    }
    let active = job["status"]["active"].as_u64().unwrap_or(0);
    Err(format!(
        "Job {namespace}/{name} not complete ({active} active)"
    ))
}

#[cfg(test)]
mod tests;
