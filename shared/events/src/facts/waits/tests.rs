use super::*;

#[test]
fn builds_every_regex() {
    assert_eq!(PATTERNS.len(), 8, "every wait pattern compiles");
    LazyLock::force(&UNRESOLVED);
    LazyLock::force(&ANSWERED_BEFORE);
    LazyLock::force(&ANSWERED_AFTER);
}

fn targets(text: &str) -> Vec<(String, Option<u16>, &'static str)> {
    waited_on(text)
        .into_iter()
        .map(|d| (d.target, d.port, d.how))
        .collect()
}

#[test]
fn shell_loops_name_their_target() {
    assert_eq!(
        targets(
            "sh -c until nc -z postgres.shop.svc.cluster.local 5432; do echo waiting for postgres; sleep 2; done"
        ),
        vec![("postgres.shop.svc.cluster.local".into(), Some(5432), "nc"),]
    );
    assert_eq!(
        targets("until nc -zv -w 2 redis 6379; do sleep 1; done")[0].0,
        "redis"
    );
    assert_eq!(targets("until nslookup myservice.$(cat /var/run/secrets/kubernetes.io/serviceaccount/namespace).svc.cluster.local; do sleep 2; done")[0].0, "myservice");
    assert_eq!(
        targets("/wait-for-it.sh --timeout=0 mysql:3306 -- echo up")[0],
        ("mysql".into(), Some(3306), "wait-for-it")
    );
    assert_eq!(
        targets("until pg_isready -h db -p 5432; do sleep 1; done")[0],
        ("db".into(), Some(5432), "pg_isready")
    );
    assert_eq!(
        targets("until curl -sf http://config-server:8888/actuator/health; do sleep 5; done")[0],
        ("config-server".into(), Some(8888), "http")
    );
    assert_eq!(
        targets("wait_for.sh job db-migrate")[0],
        ("db-migrate".into(), None, "k8s-wait-for")
    );
    assert_eq!(
        waited_on("k8s-wait-for job db-migrate")[0].object,
        Some("job")
    );
    assert_eq!(
        waited_on("until nc -z db 5432; do sleep 1; done")[0].object,
        None
    );
    assert_eq!(
        targets("until mysqladmin ping -h mysql -P 3307 --silent; do sleep 2; done")[0],
        ("mysql".into(), Some(3307), "mysqladmin")
    );
}

#[test]
fn lastmile_wait_names_each_target() {
    let deps = waited_on(
        "lastmile-wait tcp://postgres:5432 http://orders:8080/healthz dns:payments.shop.svc job:shop/migrate --timeout 2m",
    );
    let got: Vec<_> = deps
        .iter()
        .map(|d| (d.target.as_str(), d.port, d.how, d.object))
        .collect();
    assert_eq!(
        got,
        vec![
            ("postgres", Some(5432), "lastmile-wait", None),
            ("orders", Some(8080), "lastmile-wait", None),
            ("payments.shop.svc", None, "lastmile-wait", None),
            ("shop/migrate", None, "lastmile-wait", Some("job")),
        ]
    );
}

#[test]
fn log_lines_and_resolution_failures() {
    let log =
        "waiting for firmamentservice\nnslookup: can't resolve 'firmament-service.kube-system'\n";
    assert_eq!(targets(log)[0].0, "firmamentservice");
    assert_eq!(
        unresolved(log).as_deref(),
        Some("firmament-service.kube-system")
    );
    assert!(targets("waiting for the pod to start").is_empty());
}

#[test]
fn service_and_namespace_of_dns_names() {
    let d = Dependency {
        target: "postgres.shop.svc.cluster.local".into(),
        port: None,
        how: "nc",
        object: None,
    };
    assert_eq!((d.service(), d.namespace()), ("postgres", Some("shop")));
    let short = Dependency {
        target: "db".into(),
        port: None,
        how: "nc",
        object: None,
    };
    assert_eq!((short.service(), short.namespace()), ("db", None));
}

#[test]
fn a_command_named_in_prose_is_not_a_wait_on_a_preposition() {
    for text in [
        "the init container only runs nslookup against the Postgres Service name",
        "we use dig on the service, then nc to the port",
        "it runs getent hosts for every peer",
    ] {
        assert_eq!(targets(text), vec![], "{text}");
    }
    // The command itself still names its target.
    assert_eq!(
        targets("until nslookup postgres.shop.svc; do sleep 2; done"),
        vec![("postgres.shop.svc".to_owned(), None, "nslookup")]
    );
}

/// A wait the log says ended (dockerize, wait-for-it, a client's "connected") is answered;
/// the same target only waited for, or another host answered, is not.
#[test]
fn a_wait_the_log_says_ended_is_answered() {
    let dockerize = "Waiting for: http://elasticsearch-master:9200\nReceived 200 from http://elasticsearch-master:9200";
    assert!(answered(dockerize, "elasticsearch-master"));
    assert!(answered(
        "wait-for-it.sh: postgres:5432 is available after 3 seconds",
        "postgres"
    ));
    assert!(answered(
        "Connected to redis.cache.svc:6379",
        "redis.cache.svc"
    ));
    assert!(!answered(
        "Waiting for: http://elasticsearch-master:9200\nProblem with request: dial tcp: connection refused",
        "elasticsearch-master"
    ));
    assert!(!answered(
        "Received 200 from http://kibana:5601",
        "elasticsearch-master"
    ));
    assert!(!answered("Received 503 from http://es:9200", "es"));
}
