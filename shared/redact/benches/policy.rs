//! Throughput of the redaction policy, printed as figures (run with
//! `cargo bench -p lastmile-redact --bench policy`): clean Kubernetes messages (the common
//! case, mostly the trigger's fast path), a CI log with every secret shape, and JSON evidence.

use std::hint::black_box;
use std::time::Instant;

fn measure(name: &str, bytes: usize, rounds: u32, mut f: impl FnMut()) {
    f();
    let start = Instant::now();
    for _ in 0..rounds {
        f();
    }
    let secs = start.elapsed().as_secs_f64() / f64::from(rounds);
    println!(
        "{name:<40} {:>9.1} µs/op {:>8.1} MB/s",
        secs * 1e6,
        bytes as f64 / secs / 1e6
    );
}

fn main() {
    let messages = [
        "0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 2 Insufficient memory. preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod.",
        "Back-off pulling image \"registry.example.com/shop/api:1.4.2\"",
        "Failed to pull image \"registry.example.com/shop/api:1.4.2\": rpc error: code = Unknown desc = failed to authorize: failed to fetch anonymous token: unexpected status: 401 Unauthorized",
        "Job has reached the specified backoff limit",
    ];
    let bytes: usize = messages.iter().map(|m| m.len()).sum();
    measure("4 event messages (text)", bytes, 20_000, || {
        for m in messages {
            black_box(lastmile_redact::text(black_box(m)));
        }
    });

    // Clean text that trips the trigger (words like "secret", "key", "http"): diagnoses and
    // remediation commands name pull secrets, taint keys and registry URLs all the time.
    let prose = [
        "The pull secret `regcred` referenced by the pod does not exist in namespace `ci`.",
        "kubectl create secret docker-registry regcred -n ci --docker-server=https://registry.example.com --docker-username=<user> --docker-password=<password>",
        "Every node carries the taint key node-role.kubernetes.io/control-plane:NoSchedule, which the pod does not tolerate.",
        "kubectl patch job db-migrate -n ci --type merge -p '{\"spec\":{\"activeDeadlineSeconds\":1800}}'",
    ];
    let prose_bytes: usize = prose.iter().map(|m| m.len()).sum();
    measure(
        "4 diagnosis lines naming secrets (text)",
        prose_bytes,
        20_000,
        || {
            for m in prose {
                black_box(lastmile_redact::text(black_box(m)));
            }
        },
    );

    let mut log = String::new();
    for seed in 0..8 {
        for s in lastmile_redact::samples::all(seed) {
            log.push_str("2026-03-03T10:00:00Z step 3/9: ");
            log.push_str(&s.text);
            log.push('\n');
            log.push_str(messages[0]);
            log.push('\n');
        }
    }
    measure("CI log, 160 secrets (text)", log.len(), 50, || {
        black_box(lastmile_redact::text(black_box(&log)));
    });

    let doc = serde_json::json!({"items": messages.iter().cycle().take(200).map(|m| serde_json::json!({"kind": "Event", "message": m, "reason": "FailedScheduling"})).collect::<Vec<_>>()});
    let json = serde_json::to_vec_pretty(&doc).unwrap_or_default();
    measure(
        "200 events as JSON evidence (bytes)",
        json.len(),
        200,
        || {
            black_box(lastmile_redact::bytes(black_box(&json), "application/json"));
        },
    );
}
