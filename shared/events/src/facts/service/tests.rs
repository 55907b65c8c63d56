use super::*;

fn t(host: &str) -> Option<(String, String)> {
    DnsTarget::parse(host, "shop").map(|t| (t.namespace, t.name))
}

#[test]
fn cluster_dns_names_resolve_to_namespace_and_service() {
    let s = |ns: &str, n: &str| Some((ns.to_owned(), n.to_owned()));
    assert_eq!(t("payments"), s("shop", "payments"));
    assert_eq!(t("payments.billing"), s("billing", "payments"));
    assert_eq!(t("payments.billing.svc"), s("billing", "payments"));
    assert_eq!(
        t("payments.billing.svc.cluster.local"),
        s("billing", "payments")
    );
    assert_eq!(
        t("Payments.billing.svc.corp.example."),
        s("billing", "payments")
    );
    assert_eq!(t("db-0.db.billing.svc.cluster.local"), s("billing", "db"));
    assert_eq!(t("10.0.0.12"), None);
    assert_eq!(t("db.example.com"), None);
}

#[test]
fn selector_endpoints_and_ports() {
    let svc: Service = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "payments", "namespace": "shop"},
            "spec": {"selector": {"app": "payments"}, "ports": [{"port": 8080, "targetPort": "http"}]}}))
        .unwrap();
    let pod: Pod = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "payments-1", "namespace": "shop", "labels": {"app": "payments", "pod-template-hash": "x"}}}))
        .unwrap();
    assert!(ServiceIndex::selects(&svc, &pod));
    let mut other = pod.clone();
    other.metadata.namespace = Some("billing".into());
    assert!(!ServiceIndex::selects(&svc, &other));
    assert!(ServiceIndex::exposes(&svc, Some(8080)) && !ServiceIndex::exposes(&svc, Some(5432)));
    let slices: Vec<EndpointSlice> = serde_json::from_value(serde_json::json!([{
            "metadata": {"name": "payments-abc", "namespace": "shop", "labels": {"kubernetes.io/service-name": "payments"}},
            "addressType": "IPv4",
            "endpoints": [
                {"addresses": ["10.1.0.5"], "conditions": {"ready": false}, "targetRef": {"kind": "Pod", "name": "payments-1"}},
                {"addresses": ["10.1.0.6"], "conditions": {"ready": true}, "targetRef": {"kind": "Pod", "name": "payments-2"}}
            ]}]))
        .unwrap();
    let services = [svc];
    let index = ServiceIndex::new(&services, &slices);
    let ready = index.ready_endpoints(&services[0]);
    assert_eq!(ready.len(), 1);
    assert_eq!(ready[0].pod.as_deref(), Some("payments-2"));
    assert!(
        index
            .resolve("payments.shop.svc.cluster.local", "other")
            .is_some()
    );
    assert!(index.resolve("payments", "other").is_none());
}
