//! Offline validation of `infra/`: every manifest parses, has the fields its kind requires,
//! and the watcher's RBAC only reads.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::Value;

fn infra() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../infra")
}

/// Every YAML document of a file, as JSON values.
fn documents(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_saphyr::from_multiple::<Value>(&text)
        .unwrap_or_else(|e| panic!("{}: not valid YAML: {e}", path.display()))
        .into_iter()
        .filter(|v| !v.is_null())
        .collect()
}

fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
        .collect();
    files.sort();
    files
}

const API_VERSIONS: &[(&str, &str)] = &[
    ("Namespace", "v1"),
    ("ConfigMap", "v1"),
    ("Service", "v1"),
    ("ServiceAccount", "v1"),
    ("StatefulSet", "apps/v1"),
    ("Deployment", "apps/v1"),
    ("ClusterRole", "rbac.authorization.k8s.io/v1"),
    ("ClusterRoleBinding", "rbac.authorization.k8s.io/v1"),
    ("Kustomization", "kustomize.config.k8s.io/v1beta1"),
];

/// The one ClusterRole allowed to read Secrets (by name: `get` only).
const SECRET_READER: &str = "lastmile-fn-image-pull";

fn check_workload(file: &str, doc: &Value, failures: &mut Vec<String>) {
    let name = doc["metadata"]["name"].as_str().unwrap_or("?");
    let selector = doc["spec"]["selector"]["matchLabels"].as_object();
    let labels = doc["spec"]["template"]["metadata"]["labels"].as_object();
    match (selector, labels) {
        (Some(sel), Some(labels)) if sel.iter().all(|(k, v)| labels.get(k) == Some(v)) => {}
        _ => failures.push(format!(
            "{file}: {name}: spec.selector.matchLabels must match the pod template labels"
        )),
    }
    let containers = doc["spec"]["template"]["spec"]["containers"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if containers.is_empty() {
        failures.push(format!("{file}: {name}: no containers"));
    }
    for c in containers {
        let cname = c["name"].as_str().unwrap_or("?");
        if c["image"].as_str().is_none_or(|i| !i.contains(':')) {
            failures.push(format!(
                "{file}: {name}/{cname}: image must be pinned to a tag"
            ));
        }
        if c["resources"]["requests"].is_null() || c["resources"]["limits"]["memory"].is_null() {
            failures.push(format!(
                "{file}: {name}/{cname}: needs resource requests and a memory limit"
            ));
        }
        if c["securityContext"]["allowPrivilegeEscalation"] != Value::Bool(false) {
            failures.push(format!(
                "{file}: {name}/{cname}: allowPrivilegeEscalation must be false"
            ));
        }
        for env in c["env"].as_array().into_iter().flatten() {
            let var = env["name"].as_str().unwrap_or("");
            let secretish = ["SECRET", "TOKEN", "PASSWORD"]
                .iter()
                .any(|s| var.contains(s));
            if secretish && !env["value"].is_null() {
                failures.push(format!(
                    "{file}: {name}/{cname}: {var} must come from a Secret, not a literal value"
                ));
            }
        }
    }
}

#[test]
fn kubernetes_manifests_have_valid_kinds_fields_and_read_only_rbac() {
    let dir = infra().join("k8s");
    let mut failures = Vec::new();
    let mut kinds = BTreeMap::<String, usize>::new();
    let mut roles = BTreeSet::new();
    let mut accounts = BTreeSet::new();
    let mut bindings = Vec::new();
    let mut files = Vec::new();
    let mut secret_getters = BTreeSet::new();
    for path in yaml_files(&dir) {
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        files.push(file.clone());
        for doc in documents(&path) {
            let kind = doc["kind"].as_str().unwrap_or_default().to_owned();
            let api = doc["apiVersion"].as_str().unwrap_or_default();
            match API_VERSIONS.iter().find(|(k, _)| *k == kind) {
                Some((_, want)) if *want == api => {}
                Some((_, want)) => {
                    failures.push(format!("{file}: {kind} must be {want}, is {api:?}"))
                }
                None => failures.push(format!("{file}: unexpected kind {kind:?}")),
            }
            *kinds.entry(kind.clone()).or_default() += 1;
            if kind == "Kustomization" {
                for r in doc["resources"].as_array().into_iter().flatten() {
                    if !dir.join(r.as_str().unwrap_or("")).exists() {
                        failures.push(format!("{file}: resource {r} does not exist"));
                    }
                }
                continue;
            }
            let name = doc["metadata"]["name"].as_str().unwrap_or("");
            if name.is_empty() {
                failures.push(format!("{file}: {kind} without metadata.name"));
            }
            let cluster_scoped = matches!(
                kind.as_str(),
                "Namespace" | "ClusterRole" | "ClusterRoleBinding"
            );
            if !cluster_scoped && doc["metadata"]["namespace"].as_str() != Some("lastmile") {
                failures.push(format!(
                    "{file}: {kind} {name} must be in namespace lastmile"
                ));
            }
            match kind.as_str() {
                "Deployment" | "StatefulSet" => check_workload(&file, &doc, &mut failures),
                "ClusterRole" => {
                    roles.insert(name.to_owned());
                    for rule in doc["rules"].as_array().into_iter().flatten() {
                        for verb in rule["verbs"].as_array().into_iter().flatten() {
                            if !matches!(verb.as_str(), Some("get" | "list" | "watch")) {
                                failures.push(format!("{file}: ClusterRole {name} grants {verb}: only get/list/watch are allowed"));
                            }
                        }
                        let resources = rule["resources"].as_array();
                        if resources.is_some_and(|r| r.iter().any(|x| x == "*")) {
                            failures.push(format!("{file}: ClusterRole {name} must not grant `*`"));
                        }
                        // Secrets: only the image-pull function, by name (`get`), never
                        // list/watch (which would hand lastmile every Secret in the cluster).
                        if resources.is_some_and(|r| r.iter().any(|x| x == "secrets")) {
                            let verbs = rule["verbs"].as_array().cloned().unwrap_or_default();
                            if name != SECRET_READER || verbs != [Value::from("get")] {
                                failures.push(format!("{file}: ClusterRole {name} may not read secrets except {SECRET_READER} with exactly `get`, has {verbs:?}"));
                            } else {
                                secret_getters.insert(name.to_owned());
                            }
                        }
                    }
                }
                "ServiceAccount" => {
                    accounts.insert(name.to_owned());
                }
                "ClusterRoleBinding" => bindings.push((file.clone(), doc.clone())),
                _ => {}
            }
        }
    }
    for (file, b) in bindings {
        let role = b["roleRef"]["name"].as_str().unwrap_or("");
        if !roles.contains(role) {
            failures.push(format!("{file}: binding to unknown ClusterRole {role}"));
        }
        for s in b["subjects"].as_array().into_iter().flatten() {
            if !accounts.contains(s["name"].as_str().unwrap_or("")) {
                failures.push(format!(
                    "{file}: binding to unknown ServiceAccount {}",
                    s["name"]
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
    assert!(
        secret_getters.contains(SECRET_READER),
        "the image-pull function needs `get` on secrets to probe with the pod's pull secrets"
    );
    for file in [
        "nats.yaml",
        "watcher.yaml",
        "webhook.yaml",
        "functions.yaml",
        "registry-probe.yaml",
        "dispatch.yaml",
        "kustomization.yaml",
    ] {
        assert!(files.iter().any(|f| f == file), "missing {file}");
    }
    assert_eq!(
        kinds.get("Deployment"),
        Some(&10),
        "watcher, webhook, six functions, the registry probe and the dispatcher: {kinds:?}"
    );
    assert_eq!(kinds.get("StatefulSet"), Some(&1), "NATS: {kinds:?}");
}

#[test]
fn lambda_template_declares_every_function_with_a_runtime_and_the_bucket() {
    let docs = documents(&infra().join("lambda/template.yaml"));
    let t = &docs[0];
    assert_eq!(t["Transform"], "AWS::Serverless-2016-10-31");
    assert_eq!(t["Globals"]["Function"]["Runtime"], "provided.al2023");
    let resources = t["Resources"].as_object().expect("Resources");
    let mut functions: Vec<&str> = resources
        .values()
        .filter(|r| r["Type"] == "AWS::Serverless::Function")
        .filter_map(|r| r["Properties"]["Environment"]["Variables"]["LASTMILE_FUNCTION"].as_str())
        .collect();
    functions.sort_unstable();
    assert_eq!(
        functions,
        vec![
            "build",
            "image-pull",
            "pending",
            "runtime",
            "wording",
            "workload"
        ]
    );
    assert!(resources.values().any(|r| r["Type"] == "AWS::S3::Bucket"));
    for (name, r) in resources {
        assert!(
            r["Type"].as_str().is_some_and(|t| t.starts_with("AWS::")),
            "{name} has no Type"
        );
    }
    let bootstrap = std::fs::read_to_string(infra().join("lambda/bootstrap")).unwrap();
    assert!(bootstrap.contains("function \"${LASTMILE_FUNCTION"));

    // The scheduled registry probe: its own entry point, targets from the environment, and an
    // EventBridge schedule.
    let probe = &resources["RegistryProbeFunction"];
    assert_eq!(probe["Type"], "AWS::Serverless::Function");
    let vars = &probe["Properties"]["Environment"]["Variables"];
    assert!(vars["LASTMILE_PROBE_REGISTRIES"].is_object(), "{vars:?}");
    assert!(vars["LASTMILE_PROBE_MANIFESTS"].is_object(), "{vars:?}");
    let schedule = &probe["Properties"]["Events"]["Schedule"];
    assert_eq!(schedule["Type"], "Schedule");
    assert_eq!(schedule["Properties"]["Schedule"], "rate(5 minutes)");
    let code = probe["Properties"]["CodeUri"].as_str().expect("CodeUri");
    assert!(code.ends_with("/lastmile-registry-probe/"), "{code}");
    let bootstrap =
        std::fs::read_to_string(infra().join("lambda/bootstrap-registry-probe")).unwrap();
    assert!(
        bootstrap.contains("/lastmile\" registry probe"),
        "{bootstrap}"
    );
}

#[test]
fn local_stack_has_nats_with_jetstream_s3_and_jaeger_bound_to_loopback() {
    let docs = documents(&infra().join("local/compose.yaml"));
    let services = docs[0]["services"].as_object().expect("services");
    for s in ["nats", "s3", "jaeger"] {
        let svc = &services[s];
        assert!(
            svc["image"].as_str().is_some_and(|i| i.contains(':')),
            "{s}: pinned image"
        );
        for p in svc["ports"].as_array().into_iter().flatten() {
            assert!(
                p.as_str().is_some_and(|p| p.starts_with("127.0.0.1:")),
                "{s}: port {p} must bind to loopback"
            );
        }
    }
    assert!(
        services["nats"]["command"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a == "--jetstream")
    );
    assert_eq!(
        services["jaeger"]["environment"]["COLLECTOR_OTLP_ENABLED"],
        "true"
    );
}

/// Seconds of a `LASTMILE_*` duration such as `60s` or `2m`.
fn seconds(value: &str) -> u64 {
    let (n, unit) = value.split_at(value.len() - 1);
    let n: u64 = n
        .parse()
        .unwrap_or_else(|_| panic!("not a duration: {value:?}"));
    match unit {
        "s" => n,
        "m" => n * 60,
        _ => panic!("unexpected unit in {value:?}"),
    }
}

#[test]
fn dispatcher_runs_next_to_nats_and_may_only_invoke_the_diagnosis_functions() {
    // Kubernetes: a Deployment running `lastmile dispatch` under its own ServiceAccount.
    let docs = documents(&infra().join("k8s/dispatch.yaml"));
    let account = docs
        .iter()
        .find(|d| d["kind"] == "ServiceAccount")
        .expect("a ServiceAccount for the dispatcher");
    let deployment = docs
        .iter()
        .find(|d| d["kind"] == "Deployment")
        .expect("a Deployment for the dispatcher");
    let pod = &deployment["spec"]["template"]["spec"];
    assert_eq!(pod["serviceAccountName"], account["metadata"]["name"]);
    let container = &pod["containers"][0];
    assert_eq!(container["args"], serde_json::json!(["dispatch"]));
    let env: BTreeMap<&str, &str> = container["env"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| Some((e["name"].as_str()?, e["value"].as_str()?)))
        .collect();
    assert!(
        env["NATS_URL"].starts_with("nats://nats.lastmile.svc"),
        "{env:?}"
    );

    // SAM: the functions it invokes, named as the dispatcher names them by default.
    let template = &documents(&infra().join("lambda/template.yaml"))[0];
    let resources = template["Resources"].as_object().unwrap();
    let functions: BTreeMap<&str, &Value> = resources
        .iter()
        .filter(|(_, r)| r["Type"] == "AWS::Serverless::Function")
        .filter_map(|(id, r)| {
            r["Properties"]["Environment"]["Variables"]["LASTMILE_FUNCTION"]
                .as_str()
                .map(|_| (id.as_str(), r))
        })
        .collect();
    assert_eq!(functions.len(), 6);
    let lambda_timeout = template["Globals"]["Function"]["Timeout"].as_u64().unwrap();
    for (id, f) in &functions {
        let name = f["Properties"]["Environment"]["Variables"]["LASTMILE_FUNCTION"]
            .as_str()
            .unwrap();
        assert_eq!(
            f["Properties"]["FunctionName"],
            format!("lastmile-fn-{name}"),
            "{id}: the dispatcher's default Lambda name"
        );
        assert!(
            f["Properties"]["Events"].is_null(),
            "{id}: incidents come from the dispatcher, not from another event source"
        );
    }
    // Timeouts nest: Lambda's < the dispatcher's invoke timeout < the consumer's ack wait,
    // so a slow invocation is neither cut short nor redelivered while it runs.
    let invoke = seconds(env["LASTMILE_LAMBDA_INVOKE_TIMEOUT"]);
    assert!(lambda_timeout < invoke, "{lambda_timeout}s vs {invoke}s");
    assert!(invoke < seconds(env["LASTMILE_ACK_WAIT"]), "{env:?}");
    let grace = pod["terminationGracePeriodSeconds"].as_u64().unwrap();
    assert!(seconds(env["LASTMILE_DRAIN_TIMEOUT"]) < grace, "{env:?}");

    // IAM: lambda:InvokeFunction on exactly those six ARNs, nothing else.
    let role = &resources["DispatcherRole"];
    assert_eq!(role["Type"], "AWS::IAM::Role");
    let mut statements = Vec::new();
    for policy in role["Properties"]["Policies"].as_array().unwrap() {
        statements.extend(policy["PolicyDocument"]["Statement"].as_array().unwrap());
    }
    assert_eq!(statements.len(), 1, "{statements:?}");
    assert_eq!(statements[0]["Effect"], "Allow");
    assert_eq!(statements[0]["Action"], "lambda:InvokeFunction");
    let mut granted: Vec<&str> = statements[0]["Resource"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let att = r["Fn::GetAtt"]
                .as_array()
                .expect("Fn::GetAtt of a function");
            assert_eq!(att[1], "Arn");
            att[0].as_str().unwrap()
        })
        .collect();
    granted.sort_unstable();
    assert_eq!(granted, functions.keys().copied().collect::<Vec<_>>());
    let association = &resources["DispatcherPodIdentity"]["Properties"];
    assert_eq!(association["ServiceAccount"], account["metadata"]["name"]);
    assert_eq!(association["Namespace"], "lastmile");

    // Not deployed together with the NATS-hosted functions by default.
    let kustomization = &documents(&infra().join("k8s/kustomization.yaml"))[0];
    let listed: Vec<&str> = kustomization["resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        !(listed.contains(&"dispatch.yaml") && listed.contains(&"functions.yaml")),
        "{listed:?}"
    );
}

/// The functions the `lastmile` binary's static table holds, as its own error names them.
fn shipped_functions() -> BTreeSet<String> {
    let out = std::process::Command::new(lastmile_tests::bin::lastmile_bin().unwrap())
        .args(["function", "no-such-function"])
        .env_remove("AWS_LAMBDA_RUNTIME_API")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    let known = err
        .split_once("(known: ")
        .and_then(|(_, rest)| rest.split_once(')'))
        .unwrap_or_else(|| panic!("no list of known functions in {err:?}"))
        .0;
    known.split(", ").map(str::to_owned).collect()
}

#[test]
fn every_shipped_function_is_deployed_on_kubernetes_and_lambda_and_packaged() {
    let shipped = shipped_functions();
    assert!(shipped.contains("wording"), "{shipped:?}");

    // Kubernetes: one Deployment running `lastmile function NAME` each.
    let deployed: BTreeSet<String> = documents(&infra().join("k8s/functions.yaml"))
        .iter()
        .filter(|d| d["kind"] == "Deployment")
        .filter_map(|d| {
            let args = &d["spec"]["template"]["spec"]["containers"][0]["args"];
            (args[0] == "function").then(|| args[1].as_str().unwrap_or("?").to_owned())
        })
        .collect();
    assert_eq!(deployed, shipped, "infra/k8s/functions.yaml");

    // Lambda: one SAM function each, named as the dispatcher names it by default.
    let template = &documents(&infra().join("lambda/template.yaml"))[0];
    let on_lambda: BTreeSet<String> = template["Resources"]
        .as_object()
        .unwrap()
        .values()
        .filter_map(|r| r["Properties"]["Environment"]["Variables"]["LASTMILE_FUNCTION"].as_str())
        .map(str::to_owned)
        .collect();
    assert_eq!(on_lambda, shipped, "infra/lambda/template.yaml");
    let description = template["Description"].as_str().unwrap();
    let package = std::fs::read_to_string(infra().join("lambda/package.sh")).unwrap();
    let features = std::fs::read_to_string(infra().join("../lambda/Cargo.toml")).unwrap();
    for name in &shipped {
        assert!(description.contains(name.as_str()), "{name}: {description}");
        // package.sh accepts it (the `case` line) and names it in its usage and error.
        let accepted = package
            .lines()
            .find(|l| l.trim_end().ends_with(") ;;"))
            .unwrap_or_default();
        assert!(
            accepted
                .split(['|', ')'])
                .any(|f| f.trim() == name.as_str()),
            "package.sh does not accept {name}: {accepted}"
        );
        for said in ["usage: package.sh", "unknown function"] {
            let line = package
                .lines()
                .find(|l| l.contains(said))
                .unwrap_or_default();
            assert!(
                line.split(['(', ')', ',', ' ']).any(|f| f == name.as_str()),
                "package.sh's {said:?} line does not name {name}: {line}"
            );
        }
        // The lean binary has a feature for it.
        let feature = format!("{name} = [\"dep:lastmile-fn-{name}\"]");
        assert!(features.contains(&feature), "lambda/Cargo.toml: {feature}");
    }
}
