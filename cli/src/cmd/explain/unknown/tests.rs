//! `unknown` answers say what was searched and what would settle it, on inputs as people
//! paste them: a pod that is fine, a describe cut before its events, a log with no events.

#![allow(clippy::unwrap_used)]

use lastmile_events::Class;

use super::super::{explain, render};

/// A `kubectl describe pod` of a pending pod, copied up to `Conditions:` (the Events section
/// is where people stop selecting).
const DESCRIBE_WITHOUT_EVENTS: &str = "\
Name:             web-7d4b9c8f6-x2x9k
Namespace:        shop
Priority:         0
Service Account:  default
Node:             <none>
Labels:           app=web
                  pod-template-hash=7d4b9c8f6
Annotations:      <none>
Status:           Pending
IP:
IPs:              <none>
Controlled By:    ReplicaSet/web-7d4b9c8f6
Containers:
  web:
    Image:      nginx:1.25
    Port:       80/TCP
    Host Port:  0/TCP
    Requests:
      cpu:        2
      memory:     4Gi
    Environment:  <none>
QoS Class:        Burstable
Node-Selectors:   <none>
Tolerations:      node.kubernetes.io/not-ready:NoExecute op=Exists for 300s
";

/// An application's log pasted alone: nothing in it names a Kubernetes cause.
const LOG_WITHOUT_EVENTS: &str = "\
2026-03-02T10:14:01.112Z INFO  orders starting version=2.3.1 commit=4f2a9c1
2026-03-02T10:14:01.380Z INFO  loaded 42 routes
2026-03-02T10:14:02.004Z INFO  listening on :8080
2026-03-02T10:15:30.551Z INFO  GET /healthz 200 1ms
";

/// `kubectl get pods -n shop -o json` with every pod running and ready.
const PODS_ALL_RUNNING: &str = r#"{
  "apiVersion": "v1",
  "kind": "List",
  "items": [
    {"apiVersion": "v1", "kind": "Pod",
     "metadata": {"name": "web-7d4b9c8f6-x2x9k", "namespace": "shop", "uid": "1"},
     "spec": {"containers": [{"name": "web", "image": "nginx:1.25"}], "nodeName": "n1"},
     "status": {"phase": "Running",
       "conditions": [{"type": "Ready", "status": "True"}],
       "containerStatuses": [{"name": "web", "image": "nginx:1.25", "imageID": "", "ready": true,
         "restartCount": 0, "state": {"running": {"startedAt": "2026-03-02T10:14:00Z"}}}]}},
    {"apiVersion": "v1", "kind": "Pod",
     "metadata": {"name": "web-7d4b9c8f6-p8q2m", "namespace": "shop", "uid": "2"},
     "spec": {"containers": [{"name": "web", "image": "nginx:1.25"}], "nodeName": "n2"},
     "status": {"phase": "Running",
       "conditions": [{"type": "Ready", "status": "True"}],
       "containerStatuses": [{"name": "web", "image": "nginx:1.25", "imageID": "", "ready": true,
         "restartCount": 0, "state": {"running": {"startedAt": "2026-03-02T10:14:00Z"}}}]}}
  ]
}"#;

fn searched(d: &lastmile_events::Diagnosis) -> &serde_json::Value {
    &d.details["searched"]
}

#[tokio::test]
async fn a_describe_cut_before_its_events_asks_for_the_events_section() {
    let ex = explain(DESCRIBE_WITHOUT_EVENTS.as_bytes(), None)
        .await
        .unwrap();
    // No rule settles it: the answer is `unknown`, or the wording function's weak lead
    // (these describe lines mention tolerations); either way it says what would settle it.
    let d = &ex[0].diagnoses[0];
    assert!(
        d.class.as_str() == Class::UNKNOWN || d.function.as_deref() == Some("wording"),
        "{d:#?}"
    );
    assert!(
        d.summary.contains(
            "To settle it, paste the whole `kubectl describe pod -n shop web-7d4b9c8f6-x2x9k`: its Events section"
        ),
        "{}",
        d.summary
    );
    let s = searched(d);
    assert!(
        s["input"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f == "`kubectl describe` output cut before its Events section"),
        "{s:#}"
    );
    // The pending search says what it lacked: events and the cluster state.
    let pending = s["families"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["family"] == "pending")
        .unwrap();
    let missing: Vec<&str> = pending["missing"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap())
        .collect();
    assert_eq!(
        missing,
        [
            "FailedScheduling / FailedCreate events",
            "nodes, quotas and LimitRanges (`--snapshot`)"
        ]
    );
    assert!(
        s["settle"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x.as_str().unwrap().starts_with("add `--snapshot")),
        "{s:#}"
    );
    // A describe shows the pod's status: it is not asked for again as JSON.
    assert!(
        !s["settle"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x.as_str().unwrap().contains("paste the pod itself")),
        "{s:#}"
    );
}

#[tokio::test]
async fn a_log_without_events_asks_for_the_pods_events_and_status() {
    let ex = explain(LOG_WITHOUT_EVENTS.as_bytes(), None).await.unwrap();
    // No rule settles it: `unknown`, or the wording function's weak lead; either way what
    // was seen is quoted: the log's own lines.
    let d = &ex[0].diagnoses[0];
    assert!(
        d.class.as_str() == Class::UNKNOWN || d.function.as_deref() == Some("wording"),
        "{d:#?}"
    );
    assert!(
        d.evidence.contains(
            &"\"2026-03-02T10:14:01.112Z INFO  orders starting version=2.3.1 commit=4f2a9c1\""
                .to_owned()
        ),
        "{:#?}",
        d.evidence
    );
    let settle: Vec<&str> = searched(d)["settle"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap())
        .collect();
    assert!(
        settle[0].starts_with("paste the pod's events: `kubectl get events -n NAMESPACE"),
        "{settle:#?}"
    );
    assert!(
        settle[1].starts_with("paste the pod itself: `kubectl get pod"),
        "{settle:#?}"
    );
    // A log was given: nobody is asked for it again.
    assert!(
        !settle.iter().any(|s| s.contains("kubectl logs")),
        "{settle:#?}"
    );
    let runtime = searched(d)["families"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["family"] == "runtime")
        .unwrap()
        .clone();
    assert_eq!(
        runtime["missing"],
        serde_json::json!([
            "container statuses (last termination, exit code, restarts)",
            "the pod's events"
        ])
    );
    // And the human output carries the same, line by line.
    let text = render::human(&ex);
    assert!(
        text.contains("- searched runtime: containers' last termination"),
        "{text}"
    );
    assert!(
        text.contains("- to settle it: paste the pod's events"),
        "{text}"
    );
}

#[tokio::test]
async fn a_document_where_every_pod_runs_says_what_was_looked_for() {
    let ex = explain(PODS_ALL_RUNNING.as_bytes(), None).await.unwrap();
    let json = render::json(&ex).unwrap();
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let d = &v["diagnoses"][0];
    assert_eq!(d["class"], "unknown");
    let s = &d["details"]["searched"];
    assert_eq!(s["input"], serde_json::json!(["2 pod(s) Running"]));
    assert_eq!(s["looked_for"][0], "Pending pods");
    assert!(
        s["settle"][0]
            .as_str()
            .unwrap()
            .contains("`kubectl describe pod -n NAMESPACE POD`"),
        "{s:#}"
    );
    assert!(
        d["evidence"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e == "looked for: Pending pods; containers waiting, crash-looping or restarting; failed or stuck Jobs; Warning events"),
        "{d:#}"
    );
}

#[tokio::test]
async fn a_function_that_answers_unknown_gets_the_search_too() {
    // The image-pull function answers `unknown` itself for a pull error it cannot place;
    // the search is added to that answer rather than replacing it.
    let text = "Warning  Failed  12s  kubelet  Failed to pull image \"registry.example/app:1\": something odd happened\n";
    let ex = explain(text.as_bytes(), None).await.unwrap();
    for d in &ex[0].diagnoses {
        if d.class.as_str() == Class::UNKNOWN {
            assert!(searched(d)["families"].is_array(), "{d:#?}");
        }
    }
}
