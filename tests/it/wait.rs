//! `lastmile-wait` against real listeners: one that opens late, one that never opens, a
//! SIGTERM, a Job read from an HTTPS API server with a service-account token, and the OTLP
//! span of a wait.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use lastmile_tests::bin::lastmile_wait_bin;
use lastmile_tests::registry::TestCa;
use lastmile_tests::tools::free_port;

fn wait_cmd(args: &[&str], log: &std::path::Path) -> anyhow::Result<Command> {
    let mut cmd = Command::new(lastmile_wait_bin()?);
    cmd.args(args)
        .arg("--termination-log")
        .arg(log)
        .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
        .env_remove("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
        .env_remove("KUBERNETES_SERVICE_HOST")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    Ok(cmd)
}

/// Reads one HTTP request head (and its body, by Content-Length) from `s`.
fn read_request(s: &mut impl Read) -> (String, String) {
    let mut reader = BufReader::new(s);
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        head.push_str(&line);
    }
    let len = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse().unwrap_or(0))
        })
        .unwrap_or(0);
    let mut body = vec![0; len];
    let _ = reader.read_exact(&mut body);
    (head, String::from_utf8_lossy(&body).into_owned())
}

/// A plain HTTP server on `listener` answering every request with `status`.
fn serve_http(listener: TcpListener, status: &'static str) {
    std::thread::spawn(move || {
        for mut s in listener.incoming().flatten() {
            read_request(&mut s);
            let _ = write!(
                s,
                "HTTP/1.1 {status}\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
            );
        }
    });
}

#[test]
fn listeners_that_open_late_are_waited_for() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (tcp_port, http_port) = (free_port()?, free_port()?);
    let tcp = format!("tcp://127.0.0.1:{tcp_port}");
    let http = format!("http://127.0.0.1:{http_port}/healthz");
    let child = wait_cmd(&[&tcp, &http, "--timeout", "60s"], &dir.path().join("log"))?.spawn()?;
    // Both refuse for a while, then open.
    std::thread::sleep(Duration::from_millis(1500));
    let _tcp = TcpListener::bind(("127.0.0.1", tcp_port))?;
    serve_http(TcpListener::bind(("127.0.0.1", http_port))?, "200 OK");
    let out = child.wait_with_output()?;
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains(&format!("{tcp} is up")) && err.contains(&format!("{http} is up")),
        "{err}"
    );
    assert!(
        !dir.path().join("log").exists(),
        "no termination log on success"
    );
    Ok(())
}

#[test]
fn never_open_targets_time_out_with_each_last_error_in_the_termination_log() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let log = dir.path().join("termination-log");
    let refused = format!("tcp://127.0.0.1:{}", free_port()?);
    let unavailable = TcpListener::bind("127.0.0.1:0")?;
    let http = format!(
        "http://127.0.0.1:{}/ready",
        unavailable.local_addr()?.port()
    );
    serve_http(unavailable, "503 Service Unavailable");
    let up = TcpListener::bind("127.0.0.1:0")?;
    let up_target = format!("tcp://{}", up.local_addr()?);
    let out: Output = wait_cmd(
        &[
            &refused,
            &http,
            "dns:no-such-service.invalid",
            &up_target,
            "--timeout",
            "3s",
        ],
        &log,
    )?
    .output()?;
    assert_eq!(out.status.code(), Some(1));
    let text = std::fs::read_to_string(&log)?;
    let first = text.lines().next().unwrap_or_default();
    assert_eq!(
        first,
        format!(
            "lastmile-wait: timed out after 3s waiting for {refused}, {http}, dns:no-such-service.invalid"
        )
    );
    let line = |t: &str| {
        text.lines()
            .find(|l| l.trim_start().starts_with(&format!("{t}:")))
            .unwrap_or_default()
            .to_owned()
    };
    assert!(
        line(&refused).to_lowercase().contains("connection refused"),
        "{text}"
    );
    assert!(line(&http).contains("HTTP 503"), "{text}");
    assert!(
        line("dns").contains("cannot resolve no-such-service.invalid"),
        "{text}"
    );
    assert!(line(&up_target).contains("up after"), "{text}");
    // Backoff retried, more than once.
    assert!(!line(&refused).contains("(1 attempts)"), "{text}");
    Ok(())
}

#[test]
fn sigterm_ends_the_wait_at_once_and_says_what_it_waited_for() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let log = dir.path().join("log");
    let target = format!("tcp://127.0.0.1:{}", free_port()?);
    let mut child: Child = wait_cmd(&[&target, "--timeout", "10m"], &log)?.spawn()?;
    std::thread::sleep(Duration::from_millis(500));
    let kill = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()?;
    assert!(kill.success());
    // It exits on the signal, long before its 10-minute timeout.
    let mut status = None;
    for _ in 0..200 {
        status = child.try_wait()?;
        if status.is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let Some(status) = status else {
        child.kill()?;
        anyhow::bail!("lastmile-wait still runs 10 s after SIGTERM");
    };
    assert_eq!(status.code(), Some(143));
    let text = std::fs::read_to_string(&log)?;
    assert!(
        text.starts_with(&format!(
            "lastmile-wait: stopped by a signal after 0s waiting for {target}"
        )) || text.starts_with(&format!(
            "lastmile-wait: stopped by a signal after 1s waiting for {target}"
        )),
        "{text}"
    );
    Ok(())
}

/// The job API's port, its request count and the request lines it saw.
type JobApi = (u16, Arc<AtomicUsize>, Arc<Mutex<Vec<String>>>);

/// An HTTPS Kubernetes API stand-in serving one Job: active for the first `active_for`
/// requests, then complete; requests without the bearer token get 401.
fn job_api(ca: &TestCa, token: &'static str, active_for: usize) -> anyhow::Result<JobApi> {
    let (cert, key) = ca.issue(&["127.0.0.1"])?;
    use rustls::pki_types::pem::PemObject;
    let chain = rustls::pki_types::CertificateDer::pem_slice_iter(cert.as_bytes())
        .collect::<Result<Vec<_>, _>>()?;
    let key = rustls::pki_types::PrivateKeyDer::from_pem_slice(key.as_bytes())?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = Arc::new(
        rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(chain, key)?,
    );
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let port = listener.local_addr()?.port();
    let served = Arc::new(AtomicUsize::new(0));
    let paths = Arc::new(Mutex::new(Vec::new()));
    let (count, seen) = (served.clone(), paths.clone());
    std::thread::spawn(move || {
        for tcp in listener.incoming().flatten() {
            let Ok(conn) = rustls::ServerConnection::new(config.clone()) else {
                continue;
            };
            let mut s = rustls::StreamOwned::new(conn, tcp);
            let (head, _) = read_request(&mut s);
            seen.lock()
                .unwrap()
                .push(head.lines().next().unwrap_or_default().to_owned());
            let n = count.fetch_add(1, Ordering::SeqCst);
            let (status, body) = if !head.contains(&format!("Authorization: Bearer {token}")) {
                (
                    "401 Unauthorized",
                    r#"{"kind":"Status","code":401}"#.to_owned(),
                )
            } else if n < active_for {
                (
                    "200 OK",
                    r#"{"kind":"Job","status":{"active":1}}"#.to_owned(),
                )
            } else {
                ("200 OK", r#"{"kind":"Job","status":{"succeeded":1,"conditions":[{"type":"SuccessCriteriaMet","status":"True"},{"type":"Complete","status":"True"}]}}"#.to_owned())
            };
            let _ = write!(
                s,
                "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            );
            let _ = s.flush();
            s.conn.send_close_notify();
            let _ = s.flush();
        }
    });
    Ok((port, served, paths))
}

#[test]
fn job_targets_wait_for_completion_through_the_api_with_the_service_account() -> anyhow::Result<()>
{
    let ca = TestCa::new("lastmile-wait test cluster CA")?;
    let (port, served, paths) = job_api(&ca, "sa-token-abc", 2)?;
    let dir = tempfile::tempdir()?;
    let sa = dir.path().join("serviceaccount");
    std::fs::create_dir(&sa)?;
    std::fs::write(sa.join("token"), "sa-token-abc\n")?;
    std::fs::write(sa.join("ca.crt"), ca.pem())?;
    std::fs::write(sa.join("namespace"), "shop")?;
    let out = wait_cmd(
        &["job:migrate", "--timeout", "60s"],
        &dir.path().join("log"),
    )?
    .env("KUBERNETES_SERVICE_HOST", "127.0.0.1")
    .env("KUBERNETES_SERVICE_PORT", port.to_string())
    .env("LASTMILE_WAIT_SA_DIR", &sa)
    .output()?;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(served.load(Ordering::SeqCst), 3);
    assert_eq!(
        paths.lock().unwrap()[0],
        "GET /apis/batch/v1/namespaces/shop/jobs/migrate HTTP/1.1"
    );
    // A wrong token: the last error names RBAC/authentication, not a hang.
    std::fs::write(sa.join("token"), "stale")?;
    let log = dir.path().join("log2");
    let out = wait_cmd(&["job:shop/migrate", "--timeout", "2s"], &log)?
        .env("KUBERNETES_SERVICE_HOST", "127.0.0.1")
        .env("KUBERNETES_SERVICE_PORT", port.to_string())
        .env("LASTMILE_WAIT_SA_DIR", &sa)
        .output()?;
    assert_eq!(out.status.code(), Some(1));
    assert!(std::fs::read_to_string(&log)?.contains("job:shop/migrate: HTTP 401"));
    Ok(())
}

#[test]
fn one_otlp_span_per_wait_under_the_traceparent() -> anyhow::Result<()> {
    let collector = TcpListener::bind("127.0.0.1:0")?;
    let endpoint = format!("http://{}", collector.local_addr()?);
    let received = std::thread::spawn(move || {
        let (mut s, _) = collector.accept().ok()?;
        let (head, body) = read_request(&mut s);
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}");
        Some((head, body))
    });
    let dir = tempfile::tempdir()?;
    let up = TcpListener::bind("127.0.0.1:0")?;
    let target = format!("tcp://{}", up.local_addr()?);
    let out = wait_cmd(&[&target], &dir.path().join("log"))?
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint)
        .env(
            "TRACEPARENT",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        )
        .output()?;
    assert_eq!(out.status.code(), Some(0));
    let (head, body) = received.join().unwrap().expect("a span export");
    assert!(head.starts_with("POST /v1/traces HTTP/1.1"), "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: application/json")
    );
    let v: serde_json::Value = serde_json::from_str(&body)?;
    let span = &v["resourceSpans"][0]["scopeSpans"][0]["spans"][0];
    assert_eq!(span["traceId"], "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_eq!(span["parentSpanId"], "00f067aa0ba902b7");
    assert_eq!(span["name"], "init wait");
    assert_eq!(span["status"]["code"], 1);
    let attrs = span["attributes"].as_array().unwrap();
    assert!(attrs.iter().any(
        |a| a["key"] == "lastmile.wait.targets" && a["value"]["stringValue"] == target.as_str()
    ));
    Ok(())
}
