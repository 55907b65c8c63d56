//! The workloads of a manifest set: the objects that run pods, with their pod template.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use lastmile_events::facts::workload_key;
use serde_json::Value;

use crate::load::Manifest;

/// One container of a pod template, as far as the rules read it.
#[derive(Debug, Clone)]
pub struct Container<'a> {
    /// Its name.
    pub name: &'a str,
    /// Its image reference.
    pub image: &'a str,
    /// `command` and `args`, joined with spaces.
    pub command_line: String,
    /// True for an init container that is a native sidecar (`restartPolicy: Always`): it
    /// does not hold the pod in init.
    pub sidecar: bool,
    /// `securityContext.privileged`.
    pub privileged: bool,
}

/// An object that runs pods: Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet,
/// ReplicationController, Job, CronJob.
#[derive(Debug)]
pub struct Workload<'a> {
    /// The manifest it came from.
    pub manifest: &'a Manifest,
    /// Its namespace (the manifest's, or the default namespace given).
    pub namespace: String,
    /// The pod template's labels, on a Pod carrying only them (for Service selectors).
    pub template: Pod,
    /// The pod template's spec, as JSON.
    pub pod_spec: &'a Value,
    /// The object's spec (Job fields are read from it; for a CronJob, its jobTemplate's).
    pub job_spec: Option<&'a Value>,
    /// Its Helm hook phases (`helm.sh/hook`), empty for a main-phase object.
    pub hooks: Vec<String>,
}

impl<'a> Workload<'a> {
    /// The workload of `m`, when `m` runs pods.
    pub fn of(m: &'a Manifest, default_namespace: &str) -> Option<Self> {
        let v = &m.value;
        let (template, job_spec) = match m.kind() {
            "Pod" => (v, None),
            "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "ReplicationController" => {
                (&v["spec"]["template"], None)
            }
            "Job" => (&v["spec"]["template"], Some(&v["spec"])),
            "CronJob" => (
                &v["spec"]["jobTemplate"]["spec"]["template"],
                Some(&v["spec"]["jobTemplate"]["spec"]),
            ),
            _ => return None,
        };
        let namespace = m.namespace().unwrap_or(default_namespace).to_owned();
        let labels: BTreeMap<String, String> = template["metadata"]["labels"]
            .as_object()
            .map(|l| {
                l.iter()
                    .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                    .collect()
            })
            .unwrap_or_default();
        let pod = Pod {
            metadata: ObjectMeta {
                name: Some(m.name().to_owned()),
                namespace: Some(namespace.clone()),
                labels: Some(labels),
                ..ObjectMeta::default()
            },
            ..Pod::default()
        };
        let hooks = m.value["metadata"]["annotations"]["helm.sh/hook"]
            .as_str()
            .map(|h| h.split(',').map(|p| p.trim().to_owned()).collect())
            .unwrap_or_default();
        Some(Self {
            manifest: m,
            namespace,
            template: pod,
            pod_spec: &template["spec"],
            job_spec,
            hooks,
        })
    }

    /// `kind/namespace/name`, lower-case kind (`deployment/shop/api`).
    pub fn key(&self) -> String {
        workload_key(
            &self.manifest.kind().to_lowercase(),
            &self.namespace,
            self.manifest.name(),
        )
    }

    /// Its name.
    pub fn name(&self) -> &str {
        self.manifest.name()
    }

    /// True for a Job or CronJob (ready means: completed).
    pub fn is_job(&self) -> bool {
        self.job_spec.is_some()
    }

    /// The init containers, in order.
    pub fn init_containers(&self) -> Vec<Container<'a>> {
        containers(&self.pod_spec["initContainers"])
    }

    /// The app containers.
    pub fn containers(&self) -> Vec<Container<'a>> {
        containers(&self.pod_spec["containers"])
    }

    /// True when the pod spec bounds the pod's whole life (`activeDeadlineSeconds`), which
    /// also bounds every init wait.
    pub fn pod_deadline(&self) -> bool {
        self.pod_spec["activeDeadlineSeconds"].is_number()
            || self
                .job_spec
                .is_some_and(|s| s["activeDeadlineSeconds"].is_number())
    }

    /// The line of an init container's `name:` in the manifest.
    pub fn line_of(&self, container: &str) -> usize {
        self.manifest
            .line_of_name_under("initContainers", container)
    }
}

fn containers(list: &Value) -> Vec<Container<'_>> {
    let Some(list) = list.as_array() else {
        return Vec::new();
    };
    list.iter()
        .map(|c| {
            let words = |key: &str| {
                c[key]
                    .as_array()
                    .map(|a| a.iter().filter_map(Value::as_str).collect::<Vec<_>>())
                    .unwrap_or_default()
            };
            let image = c["image"].as_str().unwrap_or_default();
            let mut line = words("command");
            if line.is_empty() {
                // The image's entrypoint runs: waiter images are named after their tool
                // (`groundnuty/k8s-wait-for`, `…/lastmile-wait`).
                line.push(entrypoint_guess(image));
            }
            line.extend(words("args"));
            Container {
                name: c["name"].as_str().unwrap_or_default(),
                image,
                command_line: line.join(" "),
                sidecar: c["restartPolicy"].as_str() == Some("Always"),
                privileged: c["securityContext"]["privileged"].as_bool() == Some(true),
            }
        })
        .collect()
}

/// The repository's last path component, without tag or digest (`k8s-wait-for`).
fn entrypoint_guess(image: &str) -> &str {
    let name = image.split('@').next().unwrap_or(image);
    let last = name.rsplit('/').next().unwrap_or(name);
    last.split(':').next().unwrap_or(last)
}
