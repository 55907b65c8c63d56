//! Snapshot scenarios: one per class, plus mixed causes, stale events, LimitRange defaults
//! and quota with mixed units. Objects are in `kubectl get -o json` shape.

use lastmile_events::Class;
use serde_json::{Value, json};

use crate::support::{
    NodeSpec, classes, event, fixture_items, incident, node, pending_pod, run, running_pod,
    snapshot, t,
};

const GKE_POOL: &str = "cloud.google.com/gke-nodepool";

fn gke_node(name: &str, pool: &str) -> NodeSpec<'static> {
    let name: &'static str = Box::leak(name.to_owned().into_boxed_str());
    let pool: &'static str = Box::leak(pool.to_owned().into_boxed_str());
    NodeSpec {
        name,
        pool_label: Some((GKE_POOL, pool)),
        provider_id: "gce://acme-ci/us-central1-a/x",
        ..Default::default()
    }
}

/// 12 nodes of `default-pool` (16Gi) each with 12.5Gi requested: 3.5Gi free.
fn busy_default_pool(items: &mut Vec<Value>) {
    for i in 0..12 {
        let name = format!("gke-ci-default-pool-{i:02}");
        items.push(node(NodeSpec {
            memory: "16Gi",
            cpu: "4",
            ..gke_node(&name, "default-pool")
        }));
        items.push(running_pod(
            "apps",
            &format!("api-{i}"),
            &name,
            "500m",
            "12800Mi",
            json!({"app": "api"}),
        ));
    }
}

#[test]
fn insufficient_memory_names_the_largest_free_and_the_pool() {
    let mut items = Vec::new();
    busy_default_pool(&mut items);
    let pod = pending_pod(
        "ci",
        "migrate-x7k2p",
        json!({"containers": [{"name": "migrate", "image": "m:1", "resources": {"requests": {"cpu": "500m", "memory": "6Gi"}}}]}),
        None,
    );
    let o = run(&incident(Some(pod), vec![], snapshot(items, Some(t(5)))));
    let d = &o.diagnoses[0];
    assert_eq!(d.class.as_str(), Class::INSUFFICIENT_RESOURCES);
    assert!(
        d.summary.contains("requests 6Gi memory")
            && d.summary
                .contains("the largest free is 3.5Gi on pool default-pool (12 node(s))"),
        "{}",
        d.summary
    );
    assert!(!d.definitive, "a 16Gi node could hold 6Gi once freed");
    let cmd = d.remediation[0].command.as_deref().expect("command");
    assert!(
        cmd.contains("kubectl get job/migrate -n ci -o json") && cmd.contains("\"3.5Gi\""),
        "{cmd}"
    );
    assert!(d.remediation[0].description.contains("immutable"));
    assert!(d.remediation.iter().any(|r| {
        r.command
            .as_deref()
            .is_some_and(|c| c.starts_with("gcloud container clusters resize"))
    }));
    assert_eq!(d.details["groups"][0]["count"], 12);
    assert!(o.evidence.iter().any(|e| e.name == "node-groups.json"));
}

#[test]
fn request_bigger_than_any_node_is_definitive() {
    let items = vec![node(NodeSpec {
        memory: "16Gi",
        ..gke_node("n1", "default-pool")
    })];
    let pod = pending_pod(
        "ci",
        "p",
        json!({"containers": [{"name": "c", "image": "i", "resources": {"requests": {"cpu": "500", "memory": "1Gi"}}}]}),
        None,
    );
    let o = run(&incident(Some(pod), vec![], snapshot(items, None)));
    assert_eq!(o.diagnoses[0].class.as_str(), Class::INSUFFICIENT_RESOURCES);
    assert!(o.diagnoses[0].definitive);
    assert!(
        o.diagnoses[0].summary.contains("requests 500 cpu"),
        "{}",
        o.diagnoses[0].summary
    );
}

fn mixed_pools(ci_nodes: usize) -> lastmile_contract::Outcome {
    let mut items = Vec::new();
    busy_default_pool(&mut items);
    for i in 0..ci_nodes {
        items.push(node(NodeSpec {
            memory: "32Gi",
            taints: json!([{"key": "dedicated", "value": "ci", "effect": "NoSchedule"}]),
            ..gke_node(&format!("gke-ci-ci-pool-{i}"), "ci-pool")
        }));
    }
    let pod = pending_pod(
        "ci",
        "p",
        json!({"containers": [{"name": "migrate", "image": "m", "resources": {"requests": {"cpu": "1", "memory": "6Gi"}}}]}),
        None,
    );
    run(&incident(Some(pod), vec![], snapshot(items, None)))
}

/// Two single-change fixes: the one that unlocks more nodes ranks first, both are reported.
#[test]
fn mixed_causes_across_pools_rank_by_nodes_each_fix_unlocks() {
    // 20 ci-pool nodes would take the pod with a toleration; 12 default-pool nodes with less memory.
    let o = mixed_pools(20);
    assert_eq!(
        classes(&o)[..2],
        [Class::UNTOLERATED_TAINT, Class::INSUFFICIENT_RESOURCES]
    );
    let taint = &o.diagnoses[0];
    assert!(
        taint.summary.contains("dedicated=ci:NoSchedule"),
        "{}",
        taint.summary
    );
    assert_eq!(
        taint.details["toleration"],
        json!({"key": "dedicated", "operator": "Equal", "value": "ci", "effect": "NoSchedule"})
    );
    assert!(taint.evidence[0].starts_with("20 of 32 nodes blocked by scheduling.untolerated_taint; on 20 of them it is the only obstacle"), "{:?}", taint.evidence);
    assert!(o.diagnoses[0].confidence > o.diagnoses[1].confidence);
    assert_eq!(o.diagnoses[1].details["groups"][0]["pool"], "default-pool");

    // 3 ci-pool nodes: lowering memory (12 nodes) now unlocks more.
    let o = mixed_pools(3);
    assert_eq!(
        classes(&o)[..2],
        [Class::INSUFFICIENT_RESOURCES, Class::UNTOLERATED_TAINT]
    );
}

#[test]
fn deployment_gets_a_strategic_merge_patch_keeping_existing_tolerations() {
    let items = vec![node(NodeSpec {
        taints: json!([{"key": "dedicated", "value": "ci", "effect": "NoSchedule"}]),
        ..gke_node("n1", "ci-pool")
    })];
    let pod = pending_pod("ci", "web-5d8f-abcde", json!({}), None);
    let mut inc = incident(Some(pod), vec![], snapshot(items, None));
    inc.owner = Some(lastmile_events::ObjectRef {
        kind: "Deployment".into(),
        namespace: Some("ci".into()),
        name: "web".into(),
        ..Default::default()
    });
    let o = run(&inc);
    let cmd = o.diagnoses[0].remediation[0]
        .command
        .as_deref()
        .expect("command");
    assert!(
        cmd.starts_with("kubectl patch deployment/web -n ci --type=strategic -p '"),
        "{cmd}"
    );
    assert!(
        cmd.contains("node.kubernetes.io/not-ready") && cmd.contains("\"dedicated\""),
        "the patch replaces the list, so it must keep the old entries: {cmd}"
    );
}

#[test]
fn node_selector_that_matches_nothing() {
    let items: Vec<Value> = (0..4)
        .map(|i| {
            node(NodeSpec {
                extra_labels: json!({"disktype": "hdd"}),
                ..gke_node(&format!("n{i}"), "default-pool")
            })
        })
        .collect();
    let pod = pending_pod(
        "ci",
        "p",
        json!({"nodeSelector": {"disktype": "ssd"}}),
        None,
    );
    let o = run(&incident(Some(pod), vec![], snapshot(items, None)));
    let d = &o.diagnoses[0];
    assert_eq!(d.class.as_str(), Class::NODE_AFFINITY);
    assert!(d.summary.contains("disktype ∈ {hdd}"), "{}", d.summary);
    assert!(d.definitive);
}

#[test]
fn required_node_affinity_with_gt_and_match_fields() {
    let items = vec![
        node(NodeSpec {
            extra_labels: json!({"cores": "4"}),
            ..gke_node("small", "p")
        }),
        node(NodeSpec {
            extra_labels: json!({"cores": "64"}),
            ..gke_node("big", "p")
        }),
    ];
    let affinity = json!({"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
        {"matchExpressions": [{"key": "cores", "operator": "Gt", "values": ["8"]}], "matchFields": [{"key": "metadata.name", "operator": "NotIn", "values": ["big"]}]}
    ]}}}});
    let o = run(&incident(
        Some(pending_pod("ci", "p", affinity, None)),
        vec![],
        snapshot(items, None),
    ));
    assert_eq!(o.diagnoses[0].class.as_str(), Class::NODE_AFFINITY);
    assert_eq!(o.diagnoses[0].details["nodes_total"], 2);
}

#[test]
fn cordoned_workers_and_a_tainted_control_plane() {
    let mut items = vec![node(NodeSpec {
        taints: json!([{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]),
        ..NodeSpec {
            name: "cp-1",
            ..Default::default()
        }
    })];
    for i in 0..3 {
        items.push(node(NodeSpec {
            unschedulable: true,
            taints: json!([{"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule", "timeAdded": "2026-11-26T09:00:00Z"}]),
            ..gke_node(&format!("w{i}"), "default-pool")
        }));
    }
    let o = run(&incident(
        Some(pending_pod("ci", "p", json!({}), None)),
        vec![],
        snapshot(items, None),
    ));
    assert_eq!(
        classes(&o)[0],
        Class::UNSCHEDULABLE_NODES,
        "{:?}",
        classes(&o)
    );
    assert!(
        o.diagnoses[0].remediation[0]
            .command
            .as_deref()
            .is_some_and(|c| c.starts_with("kubectl uncordon w"))
    );
}

#[test]
fn single_node_kind_cluster_control_plane_taint() {
    let items = vec![node(NodeSpec {
        taints: json!([{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]),
        provider_id: "kind://docker/kind/kind-control-plane",
        ..NodeSpec {
            name: "kind-control-plane",
            ..Default::default()
        }
    })];
    let o = run(&incident(
        Some(pending_pod("ci", "p", json!({}), None)),
        vec![],
        snapshot(items, None),
    ));
    assert_eq!(classes(&o)[0], Class::UNTOLERATED_TAINT);
    assert!(o.diagnoses[0].confidence >= 0.9);
}

#[test]
fn host_port_taken_everywhere() {
    let mut items = Vec::new();
    for i in 0..3 {
        let name = format!("n{i}");
        items.push(node(gke_node(&name, "p")));
        let mut p = running_pod(
            "ingress",
            &format!("ingress-{i}"),
            &name,
            "100m",
            "128Mi",
            json!({"app": "ingress"}),
        );
        p["spec"]["containers"][0]["ports"] =
            json!([{"containerPort": 80, "hostPort": 8080, "protocol": "TCP"}]);
        items.push(p);
    }
    let pod = pending_pod(
        "ci",
        "p",
        json!({"containers": [{"name": "c", "image": "i", "ports": [{"containerPort": 8080, "hostPort": 8080}]}]}),
        None,
    );
    let o = run(&incident(Some(pod), vec![], snapshot(items, None)));
    assert_eq!(classes(&o)[0], Class::HOST_PORTS);
    assert!(o.diagnoses[0].summary.contains("8080/TCP"));
}

#[test]
fn required_anti_affinity_by_hostname_with_every_node_taken() {
    let mut items = Vec::new();
    for i in 0..3 {
        let name = format!("n{i}");
        items.push(node(gke_node(&name, "p")));
        items.push(running_pod(
            "ci",
            &format!("web-{i}"),
            &name,
            "100m",
            "128Mi",
            json!({"app": "web"}),
        ));
    }
    let anti = json!({"affinity": {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
        {"labelSelector": {"matchLabels": {"app": "web"}}, "topologyKey": "kubernetes.io/hostname"}
    ]}}});
    let o = run(&incident(
        Some(pending_pod("ci", "web-3", anti, None)),
        vec![],
        snapshot(items, None),
    ));
    assert_eq!(classes(&o)[0], Class::POD_AFFINITY);
    assert!(
        o.diagnoses[0]
            .summary
            .contains("anti-affinity (kubernetes.io/hostname)"),
        "{}",
        o.diagnoses[0].summary
    );
}

#[test]
fn existing_pods_anti_affinity_excludes_the_pod() {
    let items = vec![node(gke_node("n0", "p")), {
        let mut p = running_pod("ci", "db-0", "n0", "100m", "128Mi", json!({"app": "db"}));
        p["spec"]["affinity"] = json!({"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
            {"labelSelector": {"matchExpressions": [{"key": "app", "operator": "In", "values": ["migrate"]}]}, "topologyKey": "topology.kubernetes.io/zone"}
        ]}});
        p
    }];
    let o = run(&incident(
        Some(pending_pod("ci", "p", json!({}), None)),
        vec![],
        snapshot(items, None),
    ));
    assert_eq!(classes(&o)[0], Class::POD_AFFINITY);
    assert!(
        o.diagnoses[0]
            .summary
            .contains("existing pod's anti-affinity")
    );
}

#[test]
fn topology_spread_with_a_cordoned_zone() {
    let mut items = Vec::new();
    for (i, zone) in ["us-central1-a", "us-central1-a", "us-central1-b"]
        .iter()
        .enumerate()
    {
        let name = format!("n{i}");
        items.push(node(NodeSpec {
            zone,
            unschedulable: *zone == "us-central1-b",
            ..gke_node(&name, "p")
        }));
    }
    items.push(running_pod(
        "ci",
        "migrate-old-1",
        "n0",
        "100m",
        "128Mi",
        json!({"app": "migrate"}),
    ));
    items.push(running_pod(
        "ci",
        "migrate-old-2",
        "n1",
        "100m",
        "128Mi",
        json!({"app": "migrate"}),
    ));
    let spread = json!({"topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone", "whenUnsatisfiable": "DoNotSchedule", "labelSelector": {"matchLabels": {"app": "migrate"}}}]});
    let o = run(&incident(
        Some(pending_pod("ci", "p", spread, None)),
        vec![],
        snapshot(items, None),
    ));
    let cs = classes(&o);
    assert_eq!(cs[0], Class::POD_AFFINITY, "{cs:?}");
    assert!(cs.contains(&Class::UNSCHEDULABLE_NODES), "{cs:?}");
}

#[test]
fn missing_storage_class_from_fixture() {
    let items = fixture_items("pvc-missing-storageclass.json");
    let pod = pending_pod(
        "ci",
        "dnsmasq-0",
        json!({"volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "dnsmasq-ironic"}}]}),
        None,
    );
    let ev = event(
        "FailedScheduling",
        "Pod",
        "dnsmasq-0",
        "0/1 nodes are available: pod has unbound immediate PersistentVolumeClaims. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling..",
        t(1),
        "default-scheduler",
    );
    let o = run(&incident(Some(pod), vec![ev], snapshot(items, Some(t(2)))));
    let d = &o.diagnoses[0];
    assert_eq!(d.class.as_str(), Class::VOLUME_BINDING);
    assert!(
        d.summary
            .contains("StorageClass standard, which does not exist"),
        "{}",
        d.summary
    );
    assert!(
        d.remediation[0]
            .command
            .as_deref()
            .is_some_and(|c| c.contains("\"local-path\""))
    );
    assert!(
        d.evidence
            .iter()
            .any(|e| e.starts_with("the message agrees"))
    );
}

#[test]
fn pv_pinned_to_a_zone_without_nodes() {
    let items = vec![
        node(NodeSpec {
            zone: "us-east-1b",
            ..gke_node("n0", "p")
        }),
        json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data", "namespace": "ci"},
               "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "10Gi"}}, "storageClassName": "gp3", "volumeName": "pvc-123"},
               "status": {"phase": "Bound"}}),
        json!({"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": "pvc-123"},
               "spec": {"capacity": {"storage": "10Gi"}, "accessModes": ["ReadWriteOnce"], "storageClassName": "gp3",
                        "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [{"key": "topology.kubernetes.io/zone", "operator": "In", "values": ["us-east-1a"]}]}]}}},
               "status": {"phase": "Bound"}}),
    ];
    let pod = pending_pod(
        "ci",
        "p",
        json!({"volumes": [{"name": "d", "persistentVolumeClaim": {"claimName": "data"}}]}),
        None,
    );
    let o = run(&incident(Some(pod), vec![], snapshot(items, None)));
    assert_eq!(classes(&o)[0], Class::VOLUME_BINDING);
    assert!(o.diagnoses[0].summary.contains("node affinity"));
}

#[test]
fn scheduling_gates() {
    let items = vec![node(gke_node("n0", "p"))];
    let pod = pending_pod(
        "ci",
        "p",
        json!({"schedulingGates": [{"name": "kueue.x-k8s.io/admission"}]}),
        None,
    );
    let o = run(&incident(Some(pod), vec![], snapshot(items, None)));
    assert_eq!(classes(&o)[0], Class::GATED);
    assert!(o.diagnoses[0].summary.contains("kueue.x-k8s.io/admission"));
}

fn job(template_spec: Value) -> k8s_openapi::api::batch::v1::Job {
    serde_json::from_value(json!({
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": "migrate", "namespace": "ci", "uid": "uid-job"},
        "spec": {"backoffLimit": 2, "template": {"metadata": {"labels": {"app": "migrate"}}, "spec": template_spec}},
        "status": {"active": 0}
    }))
    .expect("job")
}

#[test]
fn quota_with_mixed_units_on_a_job() {
    let quota = json!({"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": "team-a", "namespace": "ci"},
        "spec": {"hard": {"requests.cpu": "2", "requests.memory": "4Gi", "limits.memory": "8Gi", "count/pods": "10"}},
        "status": {"hard": {"requests.cpu": "2", "requests.memory": "4Gi", "limits.memory": "8Gi", "count/pods": "10"},
                   "used": {"requests.cpu": "1700m", "requests.memory": "3584Mi", "limits.memory": "7.5Gi", "count/pods": "4"}}});
    let items = vec![node(gke_node("n0", "p")), quota];
    let mut inc = incident(
        None,
        vec![event(
            "FailedCreate",
            "Job",
            "migrate",
            "Error creating: pods \"migrate-abc\" is forbidden: exceeded quota: team-a, requested: requests.cpu=500m, used: requests.cpu=1700m, limited: requests.cpu=2",
            t(3),
            "job-controller",
        )],
        snapshot(items, Some(t(4))),
    );
    inc.job = Some(job(
        json!({"restartPolicy": "Never", "containers": [{"name": "migrate", "image": "m", "resources": {"requests": {"cpu": "0.5", "memory": "512Mi"}, "limits": {"memory": "0.5Gi"}}}]}),
    ));
    let o = run(&inc);
    let d = &o.diagnoses[0];
    assert_eq!(d.class.as_str(), Class::QUOTA_EXCEEDED);
    assert!(
        d.summary.contains(
            "quota team-a has 300m requests.cpu left (hard 2, used 1700m), the pod asks 500m"
        ),
        "{}",
        d.summary
    );
    assert_eq!(
        d.remediation[0].command.as_deref(),
        Some(
            "kubectl patch resourcequota team-a -n ci --type=merge -p '{\"spec\":{\"hard\":{\"requests.cpu\":\"2200m\"}}}'"
        )
    );
    // Memory fits exactly (512Mi left), limits.memory too (0.5Gi left): only cpu is reported.
    assert_eq!(
        o.diagnoses
            .iter()
            .filter(|d| d.class.as_str() == Class::QUOTA_EXCEEDED)
            .count(),
        1,
        "{:#?}",
        o.diagnoses
    );
    assert!(o.evidence.iter().any(|e| e.name == "job.json"));
}

#[test]
fn quota_must_specify_from_state() {
    let quota = json!({"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": "ns-quota", "namespace": "ci"},
        "spec": {"hard": {"limits.cpu": "4", "limits.memory": "8Gi"}}, "status": {"hard": {"limits.cpu": "4", "limits.memory": "8Gi"}, "used": {"limits.cpu": "0", "limits.memory": "0"}}});
    let mut inc = incident(None, vec![], snapshot(vec![quota], None));
    inc.job = Some(job(json!({"containers": [{"name": "crd", "image": "i"}]})));
    let o = run(&inc);
    assert_eq!(classes(&o)[0], Class::QUOTA_EXCEEDED);
    assert!(
        o.diagnoses[0].summary.contains("limits.cpu for: crd"),
        "{}",
        o.diagnoses[0].summary
    );
    assert!(o.diagnoses[0].definitive);
}

#[test]
fn limit_range_default_request_changes_the_fit() {
    let lr = json!({"apiVersion": "v1", "kind": "LimitRange", "metadata": {"name": "defaults", "namespace": "ci"},
        "spec": {"limits": [{"type": "Container", "default": {"cpu": "1", "memory": "8Gi"}, "defaultRequest": {"cpu": "250m", "memory": "6Gi"}}]}});
    let mut items = Vec::new();
    busy_default_pool(&mut items);
    items.push(lr);
    let mut inc = incident(None, vec![], snapshot(items, None));
    // No requests in the template: the LimitRange default (6Gi) is what the scheduler will see.
    inc.job = Some(job(
        json!({"containers": [{"name": "migrate", "image": "m"}]}),
    ));
    let o = run(&inc);
    let d = &o.diagnoses[0];
    assert_eq!(
        d.class.as_str(),
        Class::INSUFFICIENT_RESOURCES,
        "{:?}",
        classes(&o)
    );
    assert!(d.summary.contains("requests 6Gi memory"), "{}", d.summary);
    assert!(
        d.evidence
            .iter()
            .any(|e| e.contains("LimitRange defaults applied") && e.contains("requests.memory")),
        "{:?}",
        d.evidence
    );
}

#[test]
fn limit_range_default_limit_below_the_request() {
    let lr = json!({"apiVersion": "v1", "kind": "LimitRange", "metadata": {"name": "cpu-limit", "namespace": "ci"},
        "spec": {"limits": [{"type": "Container", "default": {"cpu": "10m"}, "defaultRequest": {"cpu": "10m"}}]}});
    let mut inc = incident(
        None,
        vec![],
        snapshot(vec![node(gke_node("n0", "p")), lr], None),
    );
    inc.job = Some(job(
        json!({"containers": [{"name": "nginx", "image": "nginx", "resources": {"requests": {"cpu": "700m"}}}]}),
    ));
    let o = run(&inc);
    let d = &o.diagnoses[0];
    assert_eq!(d.class.as_str(), Class::LIMIT_RANGE, "{:?}", classes(&o));
    assert!(
        d.summary.contains("injected the default limit 10m"),
        "{}",
        d.summary
    );
}

#[test]
fn stale_event_when_capacity_was_freed_since() {
    let items = vec![node(gke_node("n0", "p")), node(gke_node("n1", "p"))];
    let ev = event(
        "FailedScheduling",
        "Pod",
        "migrate-x7k2p",
        "0/2 nodes are available: 2 Insufficient cpu. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod.",
        t(1),
        "default-scheduler",
    );
    let o = run(&incident(
        Some(pending_pod("ci", "migrate-x7k2p", json!({}), None)),
        vec![ev],
        snapshot(items, Some(t(10))),
    ));
    let d = &o.diagnoses[0];
    assert_eq!(d.class.as_str(), Class::INSUFFICIENT_RESOURCES);
    assert!(d.confidence < 0.5, "{}", d.confidence);
    assert!(
        d.summary.contains("the pod fits 2 of 2 nodes now"),
        "{}",
        d.summary
    );
    assert!(
        d.evidence
            .iter()
            .any(|e| e.starts_with("using the snapshot")),
        "{:?}",
        d.evidence
    );
    assert_eq!(d.details["disagreement"]["source_used"], "snapshot");
    assert_eq!(d.details["disagreement"]["nodes_fitting_in_snapshot"], 2);
}

#[test]
fn event_newer_than_the_snapshot_is_used() {
    let items = vec![node(gke_node("n0", "p"))];
    let ev = event(
        "FailedScheduling",
        "Pod",
        "migrate-x7k2p",
        "0/1 nodes are available: 1 Insufficient memory.",
        t(20),
        "default-scheduler",
    );
    let o = run(&incident(
        Some(pending_pod("ci", "migrate-x7k2p", json!({}), None)),
        vec![ev],
        snapshot(items, Some(t(2))),
    ));
    let d = &o.diagnoses[0];
    assert_eq!(d.class.as_str(), Class::INSUFFICIENT_RESOURCES);
    assert!(d.confidence >= 0.75);
    assert!(
        d.evidence.iter().any(|e| e.contains("using the message")),
        "{:?}",
        d.evidence
    );
}

#[test]
fn agreeing_event_raises_confidence() {
    let mut items = Vec::new();
    busy_default_pool(&mut items);
    let pod = pending_pod(
        "ci",
        "p",
        json!({"containers": [{"name": "c", "image": "i", "resources": {"requests": {"memory": "6Gi"}}}]}),
        Some("0/12 nodes are available: 12 Insufficient memory."),
    );
    let without = run(&incident(
        Some(pod.clone()),
        vec![],
        snapshot(items.clone(), None),
    ));
    let ev = event(
        "FailedScheduling",
        "Pod",
        "p",
        "0/12 nodes are available: 12 Insufficient memory.",
        t(1),
        "default-scheduler",
    );
    let with = run(&incident(Some(pod), vec![ev], snapshot(items, None)));
    assert!(with.diagnoses[0].confidence > without.diagnoses[0].confidence - 1e-9);
    assert!(
        with.diagnoses[0]
            .evidence
            .iter()
            .any(|e| e.starts_with("the message agrees"))
    );
}

#[test]
fn no_nodes_in_the_snapshot() {
    let items = vec![pending_pod("ci", "p", json!({}), None)];
    let o = run(&incident(
        Some(pending_pod("ci", "p", json!({}), None)),
        vec![],
        snapshot(items, None),
    ));
    assert_eq!(classes(&o)[0], Class::NO_NODES);
}

#[test]
fn terminal_pods_do_not_hold_capacity() {
    let mut done = running_pod("ci", "old", "n0", "3", "12Gi", json!({}));
    done["status"]["phase"] = json!("Succeeded");
    let items = vec![
        node(NodeSpec {
            memory: "16Gi",
            cpu: "4",
            ..gke_node("n0", "p")
        }),
        done,
    ];
    let o = run(&incident(
        Some(pending_pod("ci", "p", json!({}), None)),
        vec![],
        snapshot(items, None),
    ));
    assert!(
        o.diagnoses
            .iter()
            .all(|d| d.class.as_str() != Class::INSUFFICIENT_RESOURCES),
        "{:?}",
        classes(&o)
    );
}

#[test]
fn evidence_is_bounded_and_has_no_env_values() {
    let mut items = Vec::new();
    busy_default_pool(&mut items);
    let pod = pending_pod(
        "ci",
        "p",
        json!({"containers": [{"name": "c", "image": "i", "env": [{"name": "TOKEN", "value": "s3cr3t-token"}], "resources": {"requests": {"memory": "6Gi"}}}]}),
        None,
    );
    let o = run(&incident(Some(pod), vec![], snapshot(items, None)));
    // Not vacuous: the pod is in the evidence, with its env var's name but not its value.
    let pod_evidence = o
        .evidence
        .iter()
        .find(|e| e.name == "pod.json")
        .unwrap_or_else(|| {
            panic!(
                "no pod.json in {:?}",
                o.evidence.iter().map(|e| &e.name).collect::<Vec<_>>()
            )
        });
    assert!(String::from_utf8_lossy(&pod_evidence.bytes).contains("\"TOKEN\""));
    for e in &o.evidence {
        let text = String::from_utf8_lossy(&e.bytes);
        assert!(
            !text.contains("s3cr3t-token") && !text.contains("hunter2"),
            "{} leaks an env value",
            e.name
        );
    }
    assert!(o.evidence_bytes() <= lastmile_fn_pending::SPEC.max_evidence_bytes);
}

#[test]
fn scheduling_gates_without_any_snapshot() {
    let pod = pending_pod(
        "ci",
        "p",
        json!({"schedulingGates": [{"name": "example.com/quota-check"}]}),
        None,
    );
    let o = run(&incident(
        Some(pod),
        vec![],
        lastmile_events::ClusterSnapshot::default(),
    ));
    assert_eq!(classes(&o)[0], Class::GATED);
}
