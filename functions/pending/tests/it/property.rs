//! Property: the per-node verdict agrees with plain integer arithmetic (and plain taint and
//! selector rules) computed independently here, whatever units the quantities are written in.

use lastmile_events::ClusterSnapshot;
use lastmile_fn_pending::SnapshotIndex;
use lastmile_fn_pending::fit::{PodNeeds, check_all};
use proptest::prelude::*;
use serde_json::json;

const TAINTS: [(&str, &str, &str); 3] = [
    ("dedicated", "ci", "NoSchedule"),
    ("gpu", "true", "NoExecute"),
    ("soft", "x", "PreferNoSchedule"),
];

#[derive(Debug, Clone)]
struct N {
    cpu_m: i64,
    mem_mi: i64,
    unschedulable: bool,
    taint: Option<usize>,
    zone_a: bool,
    pods: Vec<(i64, i64, u8)>,
}

fn cpu_text(m: i64, style: u8) -> String {
    match style % 3 {
        0 => format!("{m}m"),
        1 => format!("{}.{:03}", m / 1000, m % 1000),
        _ if m % 1000 == 0 => format!("{}", m / 1000),
        _ => format!("{}e-3", m),
    }
}

fn mem_text(mi: i64, style: u8) -> String {
    match style % 5 {
        0 => format!("{mi}Mi"),
        1 => format!("{}Ki", mi * 1024),
        2 => format!("{}", mi * 1024 * 1024),
        3 if mi % 1024 == 0 => format!("{}Gi", mi / 1024),
        3 if mi % 512 == 0 => format!("{}.5Gi", mi / 1024),
        3 => format!("{mi}Mi"),
        _ => format!("{}e0", mi * 1024 * 1024),
    }
}

fn node_strategy() -> impl Strategy<Value = N> {
    (
        500i64..8000,
        512i64..32768,
        proptest::bool::weighted(0.1),
        proptest::option::weighted(0.4, 0usize..3),
        any::<bool>(),
        proptest::collection::vec((0i64..3000, 0i64..8000, any::<u8>()), 0..4),
    )
        .prop_map(|(cpu_m, mem_mi, unschedulable, taint, zone_a, pods)| N {
            cpu_m,
            mem_mi,
            unschedulable,
            taint,
            zone_a,
            pods,
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn verdict_agrees_with_the_arithmetic(
        nodes in proptest::collection::vec(node_strategy(), 1..8),
        want_cpu in 1i64..6000,
        want_mem in 1i64..16000,
        style in any::<u8>(),
        tolerate in proptest::collection::vec(any::<bool>(), 3),
        select_a in proptest::option::of(any::<bool>()),
    ) {
        let mut snap = ClusterSnapshot::default();
        for (i, n) in nodes.iter().enumerate() {
            let mut spec = json!({});
            if n.unschedulable { spec["unschedulable"] = json!(true); }
            if let Some(t) = n.taint { let (k, v, e) = TAINTS[t]; spec["taints"] = json!([{"key": k, "value": v, "effect": e}]); }
            snap.nodes.push(serde_json::from_value(json!({
                "metadata": {"name": format!("n{i}"), "labels": {"zone": if n.zone_a { "a" } else { "b" }}},
                "spec": spec,
                "status": {"allocatable": {"cpu": cpu_text(n.cpu_m, style), "memory": mem_text(n.mem_mi, style.wrapping_add(1)), "pods": "110"}}
            })).unwrap());
            for (j, (c, m, s)) in n.pods.iter().enumerate() {
                snap.pods.push(serde_json::from_value(json!({
                    "metadata": {"name": format!("p{i}-{j}"), "namespace": "ci"},
                    "spec": {"nodeName": format!("n{i}"), "containers": [{"name": "c", "resources": {"requests": {"cpu": cpu_text(*c, *s), "memory": mem_text(*m, s.wrapping_add(2))}}}]},
                    "status": {"phase": "Running"}
                })).unwrap());
            }
        }
        let tolerations: Vec<serde_json::Value> = TAINTS.iter().zip(&tolerate).filter(|(_, t)| **t).map(|((k, v, e), _)| json!({"key": k, "operator": "Equal", "value": v, "effect": e})).collect();
        let mut pod_spec = json!({"containers": [{"name": "c", "resources": {"requests": {"cpu": cpu_text(want_cpu, style.wrapping_add(3)), "memory": mem_text(want_mem, style.wrapping_add(4))}}}], "tolerations": tolerations});
        if let Some(a) = select_a { pod_spec["nodeSelector"] = json!({"zone": if a { "a" } else { "b" }}); }
        let pod: k8s_openapi::api::core::v1::Pod = serde_json::from_value(json!({"metadata": {"name": "pending", "namespace": "ci"}, "spec": pod_spec})).unwrap();

        let index = SnapshotIndex::build(&snap);
        let needs = PodNeeds::from_pod(&pod, Some(&index)).unwrap();
        let report = check_all(&needs, &index);

        let mut any_fits = false;
        for (i, n) in nodes.iter().enumerate() {
            let used_cpu: i64 = n.pods.iter().map(|p| p.0).sum();
            let used_mem: i64 = n.pods.iter().map(|p| p.1).sum();
            let taint_ok = match n.taint { None => true, Some(t) => TAINTS[t].2 == "PreferNoSchedule" || tolerate[t] };
            let selector_ok = select_a.is_none_or(|a| a == n.zone_a);
            let cpu_ok = want_cpu <= n.cpu_m - used_cpu;
            let mem_ok = want_mem <= n.mem_mi - used_mem;
            let fits = !n.unschedulable && taint_ok && selector_ok && cpu_ok && mem_ok;
            any_fits |= fits;
            let check = &report.nodes[i];
            prop_assert_eq!(check.blocks.is_empty(), fits, "node {} {:?}: blocks {:?}", i, n, check.blocks);
            // The shortfall reported is exactly request − free.
            for (res, short) in &check.short {
                let expect = match res.as_str() {
                    "cpu" => lastmile_fn_pending::quantity::Quantity::from_millis(i128::from(want_cpu - (n.cpu_m - used_cpu))),
                    "memory" => lastmile_fn_pending::quantity::Quantity::from_units(i128::from(want_mem - (n.mem_mi - used_mem)) << 20),
                    other => panic!("unexpected resource {other}"),
                };
                prop_assert_eq!(*short, expect);
            }
        }
        prop_assert_eq!(report.fitting().is_empty(), !any_fits);
    }
}
