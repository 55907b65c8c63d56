use super::*;

fn lint_file(name: &str, text: &str) -> Vec<Finding> {
    let manifests = parse(name, text).unwrap();
    lint(&manifests, &Config::default())
}

fn rules_of(findings: &[Finding]) -> Vec<&str> {
    findings.iter().map(|f| f.rule).collect()
}

#[test]
fn two_workload_cycle_names_both_edges() {
    let findings = lint_file("cycle2.yaml", include_str!("../fixtures/cycle2.yaml"));
    let deadlocks: Vec<&Finding> = findings
        .iter()
        .filter(|f| f.rule == "init.deadlock")
        .collect();
    assert_eq!(deadlocks.len(), 1, "{findings:#?}");
    let d = deadlocks[0];
    let edges: Vec<(&str, &str)> = d
        .edges
        .iter()
        .map(|e| (e.from.as_str(), e.to.as_str()))
        .collect();
    assert_eq!(
        edges,
        vec![
            ("deployment/shop/orders", "deployment/shop/payments"),
            ("deployment/shop/payments", "deployment/shop/orders"),
        ]
    );
    assert!(
        d.edges[0]
            .why
            .contains("payments.shop.svc.cluster.local:9090 (nc)"),
        "{}",
        d.edges[0].why
    );
    assert!(
        d.edges[0]
            .why
            .contains("Service shop/payments selects deployment/shop/payments")
    );
    assert!(
        d.edges[1].why.contains("orders:8080 (http)"),
        "{}",
        d.edges[1].why
    );
    // Lines point at the init containers' names.
    assert_eq!((d.edges[0].line, d.edges[1].line), (41, 66));
    assert_eq!(d.severity, Severity::Error);
    // Both loops are unbounded too.
    assert_eq!(
        rules_of(&findings)
            .iter()
            .filter(|r| **r == "init.unbounded_wait")
            .count(),
        2
    );
}

#[test]
fn three_workload_cycle_through_a_headless_service() {
    let findings = lint_file("cycle3.yaml", include_str!("../fixtures/cycle3.yaml"));
    let d = findings
        .iter()
        .find(|f| f.rule == "init.deadlock")
        .expect("a deadlock");
    let path: Vec<&str> = d.edges.iter().map(|e| e.from.as_str()).collect();
    assert_eq!(
        path,
        vec![
            "deployment/web/frontend",
            "deployment/web/catalog",
            "statefulset/web/catalog-db"
        ]
    );
    assert_eq!(d.edges[2].to, "deployment/web/frontend");
    assert!(d.message.contains("deployment/web/frontend → deployment/web/catalog → statefulset/web/catalog-db → deployment/web/frontend"));
    assert!(
        d.edges[0].why.contains("catalog:8080 (lastmile-wait)"),
        "{}",
        d.edges[0].why
    );
    assert!(
        d.edges[1]
            .why
            .contains("Service web/catalog-db selects statefulset/web/catalog-db")
    );
    assert_eq!(
        findings
            .iter()
            .filter(|f| f.rule == "init.deadlock")
            .count(),
        1
    );
    // frontend's lastmile-wait is bounded; the two shell loops are not.
    let unbounded: Vec<&str> = findings
        .iter()
        .filter(|f| f.rule == "init.unbounded_wait")
        .map(|f| f.object.as_str())
        .collect();
    assert_eq!(
        unbounded,
        vec!["deployment/web/catalog", "statefulset/web/catalog-db"]
    );
    let privileged = findings
        .iter()
        .find(|f| f.rule == "init.privileged")
        .unwrap();
    assert_eq!(
        (privileged.object.as_str(), privileged.container.as_deref()),
        ("statefulset/web/catalog-db", Some("wait-frontend"))
    );
}

#[test]
fn helm_post_install_hook_waited_on_by_a_main_workload_deadlocks() {
    let text = include_str!("../fixtures/helm-hook.yaml");
    let findings = lint_file("helm.yaml", text);
    let d = findings
        .iter()
        .find(|f| f.rule == "init.deadlock")
        .expect("a deadlock");
    assert_eq!(d.edges.len(), 2);
    assert_eq!(
        (d.edges[0].from.as_str(), d.edges[0].to.as_str()),
        ("deployment/default/shop-web", "job/default/shop-migrate")
    );
    assert!(
        d.edges[0]
            .why
            .contains("waits for job shop-migrate (k8s-wait-for) to complete"),
        "{}",
        d.edges[0].why
    );
    assert!(d.edges[1].why.contains("Helm runs post-install,post-upgrade hook job/default/shop-migrate only after deployment/default/shop-web is ready"));
    // Without --wait Helm runs the hook at once: no cycle.
    let manifests = parse("helm.yaml", text).unwrap();
    let no_wait = lint(
        &manifests,
        &Config {
            helm_wait: false,
            ..Config::default()
        },
    );
    assert!(
        !rules_of(&no_wait).contains(&"init.deadlock"),
        "{no_wait:#?}"
    );
    // The hook Job has a deadline and a delete policy: no Job findings.
    assert!(!rules_of(&findings).iter().any(|r| r.starts_with("job.")));
}

#[test]
fn clean_set_has_no_findings() {
    let findings = lint_file("clean.yaml", include_str!("../fixtures/clean.yaml"));
    assert_eq!(findings, Vec::<Finding>::new());
}

#[test]
fn clean_set_as_a_json_list_has_no_findings() {
    let manifests = parse("clean.yaml", include_str!("../fixtures/clean.yaml")).unwrap();
    let list = serde_json::json!({
        "apiVersion": "v1", "kind": "List",
        "items": manifests.iter().map(|m| m.value.clone()).collect::<Vec<_>>(),
    });
    let text = serde_json::to_string_pretty(&list).unwrap();
    let again = parse("clean.json", &text).unwrap();
    assert_eq!(again.len(), manifests.len());
    // Items get their own lines.
    assert!(again[1].line > again[0].line);
    assert!(lint(&again, &Config::default()).is_empty());
}

/// A Deployment whose init containers wait on Service `redis:6379` and Job `shop/seed`,
/// neither of which the set defines.
pub(super) const API_WAITS_ON_REDIS_AND_SEED: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop}
spec:
  template:
    metadata: {labels: {app: api}}
    spec:
      initContainers:
        - name: wait
          image: busybox
          command: [sh, -c, "timeout 60 sh -c 'until nc -z redis 6379; do sleep 1; done' && nslookup api.example.com"]
        - name: wait-job
          image: ghcr.io/acme/lastmile-wait:0.1
          args: [job:shop/seed]
      containers: [{name: api, image: api}]
"#;

#[test]
fn waits_on_objects_missing_from_the_set_are_blocked() {
    let text = API_WAITS_ON_REDIS_AND_SEED;
    let findings = lint_file("api.yaml", text);
    let blocked: Vec<&str> = findings
        .iter()
        .filter(|f| f.rule == "init.blocked")
        .map(|f| f.message.as_str())
        .collect();
    assert_eq!(blocked.len(), 2, "{findings:#?}");
    assert!(blocked[0].contains("Service shop/redis is not in the manifests"));
    assert!(blocked[1].contains("Job shop/seed is not in the manifests"));
    assert!(!rules_of(&findings).contains(&"init.unbounded_wait"));
    // k8s-wait-for waits on a Service's ready endpoints: a missing one is named too.
    let waiting_on_service = text.replace(
        "args: [job:shop/seed]",
        "args: [k8s-wait-for, service, search]",
    );
    let on_service = lint_file("api.yaml", &waiting_on_service);
    assert!(
        on_service.iter().any(|f| f
            .message
            .contains("Service shop/search is not in the manifests")),
        "{on_service:#?}"
    );
}

#[test]
fn registry_allowlist_and_job_hygiene() {
    let text = r#"
apiVersion: batch/v1
kind: CronJob
metadata: {name: report, namespace: ops}
spec:
  schedule: "0 * * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          initContainers:
            - {name: fetch, image: "quay.io/someone/fetch:1"}
            - {name: prep, image: "ghcr.io/acme/prep:2"}
          containers: [{name: report, image: "ghcr.io/acme/report:2"}]
"#;
    let manifests = parse("cron.yaml", text).unwrap();
    let config = Config {
        allowed_registries: vec!["ghcr.io/acme".into()],
        ..Config::default()
    };
    let findings = lint(&manifests, &config);
    assert_eq!(
        rules_of(&findings),
        vec!["job.no_deadline", "init.registry"],
        "{findings:#?}"
    );
    assert!(
        findings[1]
            .message
            .contains("`quay.io/someone/fetch:1` from quay.io")
    );
    assert_eq!(findings[1].line, 13);
}

#[test]
fn secrets_in_commands_are_redacted() {
    let text = r#"
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  initContainers:
    - name: wait-db
      image: mysql:8
      command: [sh, -c, "until mysqladmin ping -h mysql --password=hunter2secret; do sleep 1; done"]
  containers: [{name: c, image: c}]
"#;
    let findings = lint_file("pod.yaml", text);
    let all = serde_json::to_string(&findings).unwrap();
    assert!(all.contains("init.unbounded_wait"));
    assert!(!all.contains("hunter2secret"), "{all}");
}

#[test]
fn bad_manifests_get_one_line_errors() {
    let err = |text: &str| parse("bad.yaml", text).unwrap_err().to_string();
    let invalid = err("apiVersion: v1\nkind: Pod\nmetadata: {name: [unclosed\n");
    assert!(
        invalid.starts_with("bad.yaml: invalid YAML/JSON: "),
        "{invalid}"
    );
    assert!(!invalid.contains('\n'));
    let unknown = err(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\n---\napiVersion: apps/v1\nkind: Deploymnet\nmetadata: {name: b}\n",
    );
    assert_eq!(unknown, "bad.yaml:5: unknown kind `Deploymnet` in apps/v1");
    assert_eq!(
        err("- just\n- a list\n"),
        "bad.yaml:1: not a Kubernetes object (the document is not a mapping)"
    );
    assert_eq!(
        err("name: x\n"),
        "bad.yaml:1: not a Kubernetes object (no apiVersion or kind)"
    );
    let big = "# padding\n".repeat(1024 * 1024);
    assert_eq!(
        err(&big),
        format!(
            "bad.yaml: {} bytes is over the 8388608-byte limit for one manifest input",
            big.len()
        )
    );
    // Custom resources are not refused.
    assert!(
        parse(
            "cr.yaml",
            "apiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\nmetadata: {name: m}\n"
        )
        .is_ok()
    );
}

#[test]
fn outputs_carry_file_and_line() {
    let findings = lint_file("k8s/cycle2.yaml", include_str!("../fixtures/cycle2.yaml"));
    let gh = render::github(&findings);
    assert!(
        gh.lines().any(|l| l
            .starts_with("::error file=k8s/cycle2.yaml,line=41,title=init.deadlock::wait cycle")),
        "{gh}"
    );
    assert!(gh.lines().all(|l| l.starts_with("::")));
    let sarif: serde_json::Value = serde_json::from_str(&render::sarif(&findings)).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    let result = &sarif["runs"][0]["results"][0];
    assert_eq!(result["ruleId"], "init.deadlock");
    assert_eq!(
        result["locations"][0]["physicalLocation"]["region"]["startLine"],
        41
    );
    assert_eq!(result["relatedLocations"].as_array().unwrap().len(), 2);
    let json: serde_json::Value = serde_json::from_str(&render::json(&findings)).unwrap();
    assert_eq!(json["errors"], 1);
    let human = render::human(&findings);
    assert!(human.contains("k8s/cycle2.yaml:41: error init.deadlock"));
    assert!(human.ends_with("1 error, 2 warnings\n"), "{human}");
}

fn admission_request(namespace: &str, object: serde_json::Value) -> serde_json::Value {
    serde_json::json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": "705ab4f5-6393-11e8-b7cc-42010a800002",
            "kind": {"group": "apps", "version": "v1", "kind": "Deployment"},
            "resource": {"group": "apps", "version": "v1", "resource": "deployments"},
            "namespace": namespace,
            "operation": "CREATE",
            "object": object,
        }
    })
}

#[test]
fn admission_warns_or_denies_by_mode() {
    use admission::{Mode, review};
    let manifests = parse("cycle3.yaml", include_str!("../fixtures/cycle3.yaml")).unwrap();
    let db = manifests
        .iter()
        .find(|m| m.kind() == "StatefulSet")
        .unwrap();
    let req = admission_request("web", db.value.clone());
    let warn = review(&req, Mode::Warn, &Config::default()).unwrap();
    assert_eq!(
        warn["response"]["uid"],
        "705ab4f5-6393-11e8-b7cc-42010a800002"
    );
    assert_eq!(warn["response"]["allowed"], true);
    let warnings = warn["response"]["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 2);
    assert!(
        warnings
            .iter()
            .all(|w| w.as_str().unwrap().chars().count() <= admission::MAX_WARNING_CHARS)
    );
    let deny = review(&req, Mode::Deny, &Config::default()).unwrap();
    assert_eq!(deny["response"]["allowed"], false);
    assert_eq!(deny["response"]["status"]["code"], 403);
    assert!(deny["response"]["status"]["message"].as_str().unwrap().contains("init.privileged: init container `wait-frontend` of statefulset/web/catalog-db runs privileged"));
    // Only warnings: admitted even in deny mode.
    let catalog = manifests
        .iter()
        .find(|m| m.kind() == "Deployment" && m.name() == "catalog")
        .unwrap();
    let ok = review(
        &admission_request("web", catalog.value.clone()),
        Mode::Deny,
        &Config::default(),
    )
    .unwrap();
    assert_eq!(ok["response"]["allowed"], true);
    assert_eq!(ok["response"]["warnings"].as_array().unwrap().len(), 1);
    assert!(
        review(
            &serde_json::json!({"kind": "Pod"}),
            Mode::Warn,
            &Config::default()
        )
        .is_err()
    );
}

#[test]
fn pre_install_hook_waiting_on_a_main_workload_deadlocks_and_localhost_is_not_a_service() {
    let text = r#"
apiVersion: v1
kind: Service
metadata: {name: redis}
spec: {selector: {app: redis}, ports: [{port: 6379}]}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: redis}
spec:
  selector: {matchLabels: {app: redis}}
  template:
    metadata: {labels: {app: redis}}
    spec:
      initContainers:
        - {name: self-check, image: busybox, command: [sh, -c, "timeout 30 sh -c 'until nc -z localhost 6379; do sleep 1; done'"]}
      containers: [{name: redis, image: redis:7}]
---
apiVersion: batch/v1
kind: Job
metadata:
  name: seed
  annotations: {helm.sh/hook: pre-install, helm.sh/hook-delete-policy: hook-succeeded}
spec:
  activeDeadlineSeconds: 300
  template:
    spec:
      restartPolicy: Never
      initContainers:
        - {name: wait-redis, image: ghcr.io/acme/lastmile-wait:0.1, args: ["tcp://redis:6379", --timeout, 2m]}
      containers: [{name: seed, image: ghcr.io/acme/seed:1}]
"#;
    let findings = lint_file("chart.yaml", text);
    assert_eq!(rules_of(&findings), vec!["init.deadlock"], "{findings:#?}");
    let why: Vec<&str> = findings[0].edges.iter().map(|e| e.why.as_str()).collect();
    assert!(
        why[1].contains("Service default/redis selects statefulset/default/redis"),
        "{why:?}"
    );
    assert!(why[0].contains("Helm creates statefulset/default/redis only after pre-install hook job/default/seed has completed"), "{why:?}");
}

#[test]
fn admission_warnings_are_capped_with_a_count_of_the_rest() {
    let containers: Vec<serde_json::Value> = (0..15)
        .map(|i| serde_json::json!({"name": format!("init-{i}"), "image": "busybox:1", "securityContext": {"privileged": true}}))
        .collect();
    let pod = serde_json::json!({
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "ops"},
        "spec": {"initContainers": containers, "containers": [{"name": "c", "image": "c:1"}]}
    });
    let r = admission::review(
        &admission_request("ops", pod),
        admission::Mode::Warn,
        &Config::default(),
    )
    .unwrap();
    let warnings = r["response"]["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), admission::MAX_WARNINGS + 1);
    assert_eq!(
        warnings[admission::MAX_WARNINGS],
        "lastmile admission: 5 more finding(s); run `lastmile lint` on the manifest"
    );
}

mod cluster;
