//! Node selectors, affinity, taints, host ports, anti-affinity and topology spread.

use super::*;

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

/// A DaemonSet's pod (its controller says so, no text does) is blocked on its own node by
/// the host ports there; the taint in its fit error is another node's. The same fit error
/// on a Job's pod keeps the taint first.
#[test]
fn a_daemonset_pod_is_blocked_by_the_ports_on_its_own_node() {
    let fit = "0/5 nodes are available: 1 node(s) didn't have free ports for the requested pod ports, 1 node(s) had untolerated taint {dedicated: db}, 3 node(s) didn't match Pod's node affinity/selector.";
    let mut pod = pending_pod("ci", "lb-agent-q2x9z", json!({}), Some(fit));
    pod["metadata"]["ownerReferences"] = json!([{"apiVersion": "apps/v1", "kind": "DaemonSet", "name": "lb-agent", "uid": "uid-ds", "controller": true}]);
    let o = run(&incident(Some(pod), vec![], snapshot(vec![], None)));
    assert_eq!(
        classes(&o).first(),
        Some(&Class::HOST_PORTS),
        "{:?}",
        classes(&o)
    );
    let job_pod = pending_pod("ci", "migrate-x7k2p", json!({}), Some(fit));
    let o = run(&incident(Some(job_pod), vec![], snapshot(vec![], None)));
    assert_eq!(
        classes(&o).first(),
        Some(&Class::UNTOLERATED_TAINT),
        "{:?}",
        classes(&o)
    );
}
