use super::super::FakeApiServer;
use serde_json::{Value, json};

const JOB: &str = "/apis/batch/v1/namespaces/ci/jobs/migrate";

async fn patch(api: &FakeApiServer, query: &str, ty: &str, body: Value) -> (u16, Value) {
    let r = reqwest::Client::new()
        .patch(format!("{}{JOB}{query}", api.url()))
        .header("content-type", ty)
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

#[tokio::test]
async fn patch_dry_run_conflict_and_apply() {
    let api = FakeApiServer::start().await.unwrap();
    let rv = api
        .apply(json!({"apiVersion": "batch/v1", "kind": "Job",
                "metadata": {"name": "migrate", "namespace": "ci"},
                "spec": {"activeDeadlineSeconds": 600}}))
        .unwrap()
        .to_string();
    let merge = "application/merge-patch+json";
    let body = json!({"metadata": {"resourceVersion": rv}, "spec": {"activeDeadlineSeconds": 900}});

    let (code, dry) = patch(&api, "?dryRun=All", merge, body.clone()).await;
    assert_eq!(code, 200);
    assert_eq!(dry["spec"]["activeDeadlineSeconds"], 900);
    assert_eq!(dry["metadata"]["resourceVersion"], rv.as_str());
    let stored = api.get("batch/v1", "Job", "ci", "migrate").unwrap();
    assert_eq!(
        stored["spec"]["activeDeadlineSeconds"], 600,
        "dry run stores nothing"
    );

    let stale = json!({"metadata": {"resourceVersion": "1"}, "spec": {"suspend": true}});
    let (code, status) = patch(&api, "", merge, stale).await;
    assert_eq!(code, 409);
    assert_eq!(status["reason"], "Conflict");
    assert!(
        status["message"]
            .as_str()
            .unwrap()
            .contains("jobs.batch \"migrate\"")
    );

    let ops = json!([{"op": "replace", "path": "/metadata/resourceVersion", "value": rv},
                         {"op": "add", "path": "/spec/ttlSecondsAfterFinished", "value": 60}]);
    let (code, _) = patch(&api, "?dryRun=All", "application/json-patch+json", ops).await;
    assert_eq!(code, 200);

    let (code, applied) = patch(&api, "", "application/strategic-merge-patch+json", body).await;
    assert_eq!(code, 200);
    assert_ne!(applied["metadata"]["resourceVersion"], rv.as_str());
    let stored = api.get("batch/v1", "Job", "ci", "migrate").unwrap();
    assert_eq!(stored["spec"]["activeDeadlineSeconds"], 900);

    let (code, _) = patch(&api, "", "text/plain", json!({})).await;
    assert_eq!(code, 415);
    let writes = api.writes();
    assert_eq!(writes.len(), 5);
    assert!(writes[0].is_dry_run() && !writes[1].is_dry_run());
    assert_eq!(
        writes[3].content_type,
        "application/strategic-merge-patch+json"
    );
}

#[tokio::test]
async fn posted_events_are_stored_and_listed() {
    let api = FakeApiServer::start().await.unwrap();
    let event = json!({"apiVersion": "v1", "kind": "Event",
            "metadata": {"generateName": "migrate."},
            "involvedObject": {"kind": "Job", "namespace": "ci", "name": "migrate"},
            "reason": "Remediated", "message": "m", "type": "Normal"});
    let url = format!("{}/api/v1/namespaces/ci/events", api.url());
    let r = reqwest::Client::new()
        .post(&url)
        .json(&event)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    let events = api.list("v1", "Event", "ci");
    assert_eq!(events.len(), 1);
    assert!(
        events[0]["metadata"]["name"]
            .as_str()
            .unwrap()
            .starts_with("migrate.")
    );
    let listed: Value = reqwest::get(&url).await.unwrap().json().await.unwrap();
    assert_eq!(listed["items"][0]["reason"], "Remediated");
}
