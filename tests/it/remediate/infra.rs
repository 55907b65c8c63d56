//! `infra/remediate` holds the executor to its RBAC and keeps it off by default.

use std::path::Path;

use serde_json::{Value, json};

/// Every YAML document of a file under `infra/remediate`, as JSON.
fn infra_documents(file: &str) -> Vec<Value> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../infra/remediate")
        .join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_saphyr::from_multiple::<Value>(&text)
        .unwrap_or_else(|e| panic!("{file}: not valid YAML: {e}"))
        .into_iter()
        .filter(|v| !v.is_null())
        .collect()
}

#[test]
fn remediate_rbac_only_reads_and_patches_jobs_and_creates_events_per_namespace() {
    let kustomization = &infra_documents("kustomization.yaml")[0];
    for r in kustomization["resources"].as_array().into_iter().flatten() {
        assert!(!infra_documents(r.as_str().unwrap_or("")).is_empty(), "{r}");
    }
    let rbac = infra_documents("rbac.yaml");
    let role = rbac
        .iter()
        .find(|d| d["kind"] == "ClusterRole")
        .expect("a ClusterRole");
    let mut grants = Vec::new();
    for rule in role["rules"].as_array().into_iter().flatten() {
        for resource in rule["resources"].as_array().into_iter().flatten() {
            for verb in rule["verbs"].as_array().into_iter().flatten() {
                grants.push(format!(
                    "{}:{}",
                    resource.as_str().unwrap_or("?"),
                    verb.as_str().unwrap_or("?")
                ));
            }
        }
    }
    grants.sort();
    assert_eq!(grants, ["events:create", "jobs:get", "jobs:patch"]);
    assert!(
        rbac.iter().all(|d| d["kind"] != "ClusterRoleBinding"),
        "granted per namespace (RoleBinding), never cluster-wide"
    );
    let binding = rbac
        .iter()
        .find(|d| d["kind"] == "RoleBinding")
        .expect("a RoleBinding");
    assert_eq!(binding["roleRef"]["name"], "lastmile-remediate");
    assert_eq!(binding["subjects"][0]["name"], "lastmile-remediate");

    let deployment = &infra_documents("remediate.yaml")[0];
    assert_eq!(deployment["kind"], "Deployment");
    let pod = &deployment["spec"]["template"]["spec"];
    assert_eq!(pod["serviceAccountName"], "lastmile-remediate");
    let container = &pod["containers"][0];
    assert_eq!(container["args"][0], "remediate");
    assert_eq!(
        container["securityContext"]["allowPrivilegeEscalation"],
        false
    );
    assert!(!container["resources"]["limits"]["memory"].is_null());
    // Off unless configured: the shipped allowlist is empty and no --allow flag is set.
    assert!(
        container["args"]
            .as_array()
            .into_iter()
            .flatten()
            .all(|a| a != "--allow")
    );
    assert!(
        container["env"]
            .as_array()
            .into_iter()
            .flatten()
            .all(|e| e["name"] != "LASTMILE_REMEDIATE_ALLOW")
    );
    let config = &infra_documents("config.yaml")[0];
    assert_eq!(config["allow"], json!([]));
}
