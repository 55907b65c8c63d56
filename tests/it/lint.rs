//! `lastmile lint` as CI runs it: manifest files, directories and `helm template` output on
//! stdin, in every output format, with `gate`'s exit codes; bad manifests named on one line.

use std::io::Write as _;
use std::process::{Command, Output, Stdio};

use lastmile_tests::bin::lastmile_bin;

fn fixtures() -> String {
    concat!(env!("CARGO_MANIFEST_DIR"), "/../lint/fixtures").to_owned()
}

fn lint(args: &[&str], stdin: Option<&str>) -> anyhow::Result<Output> {
    let mut child = Command::new(lastmile_bin()?)
        .arg("lint")
        .args(args)
        .env_remove("GITHUB_ACTIONS")
        .env_remove("LASTMILE_ALLOWED_REGISTRIES")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.unwrap_or_default().as_bytes())?;
    drop(input);
    Ok(child.wait_with_output()?)
}

#[test]
fn cycles_fail_with_every_edge_named() -> anyhow::Result<()> {
    let out = lint(&[&format!("{}/cycle3.yaml", fixtures())], None)?;
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout)?;
    assert!(text.contains("cycle3.yaml:32: error init.deadlock: wait cycle, none of these can become ready: deployment/web/frontend → deployment/web/catalog → statefulset/web/catalog-db → deployment/web/frontend"), "{text}");
    for edge in [
        "deployment/web/frontend → deployment/web/catalog: init container `wait-catalog` waits for catalog:8080 (lastmile-wait); Service web/catalog selects deployment/web/catalog",
        "deployment/web/catalog → statefulset/web/catalog-db: init container `wait-db` waits for catalog-db:5432 (pg_isready)",
        "statefulset/web/catalog-db → deployment/web/frontend: init container `wait-frontend` waits for frontend.web.svc.cluster.local (http)",
    ] {
        assert!(text.contains(edge), "missing edge {edge}:\n{text}");
    }
    Ok(())
}

#[test]
fn clean_manifests_pass() -> anyhow::Result<()> {
    let out = lint(
        &[
            &format!("{}/clean.yaml", fixtures()),
            "--allowed-registry",
            "ghcr.io/acme,docker.io/library",
        ],
        None,
    )?;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(String::from_utf8(out.stdout)?, "no findings\n");
    Ok(())
}

#[test]
fn helm_template_on_stdin_as_github_annotations() -> anyhow::Result<()> {
    let helm = std::fs::read_to_string(format!("{}/helm-hook.yaml", fixtures()))?;
    let out = lint(&["-", "--format", "github"], Some(&helm))?;
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout)?;
    let first = text.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("::error file=-,line=20,title=init.deadlock::"),
        "{text}"
    );
    assert!(first.contains("Helm runs post-install,post-upgrade hook job/default/shop-migrate only after deployment/default/shop-web is ready"));
    // The file name annotations carry for stdin.
    let out = lint(
        &[
            "-",
            "--format",
            "github",
            "--stdin-name",
            "rendered/shop.yaml",
        ],
        Some(&helm),
    )?;
    assert!(String::from_utf8(out.stdout)?.starts_with("::error file=rendered/shop.yaml,line=20,"));
    // Under --helm-no-wait the hook runs at once: only the unbounded wait remains, a warning.
    let out = lint(&["-", "--helm-no-wait"], Some(&helm))?;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let out = lint(&["-", "--helm-no-wait", "--strict"], Some(&helm))?;
    assert_eq!(out.status.code(), Some(1));
    Ok(())
}

#[test]
fn sarif_and_json_for_tools() -> anyhow::Result<()> {
    let out = lint(
        &[&format!("{}/cycle2.yaml", fixtures()), "--format", "sarif"],
        None,
    )?;
    assert_eq!(out.status.code(), Some(1));
    let sarif: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    assert_eq!(sarif["version"], "2.1.0");
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let deadlock = results
        .iter()
        .find(|r| r["ruleId"] == "init.deadlock")
        .unwrap();
    assert_eq!(deadlock["level"], "error");
    assert_eq!(
        deadlock["locations"][0]["physicalLocation"]["region"]["startLine"],
        41
    );
    assert!(
        deadlock["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .unwrap()
            .ends_with("cycle2.yaml")
    );
    let out = lint(
        &[&format!("{}/cycle2.yaml", fixtures()), "--format", "json"],
        None,
    )?;
    let json: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    assert_eq!(
        (json["errors"].as_u64(), json["warnings"].as_u64()),
        (Some(1), Some(2))
    );
    assert_eq!(json["findings"][0]["edges"].as_array().unwrap().len(), 2);
    Ok(())
}

#[test]
fn bad_manifests_each_get_one_line_and_exit_2() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    std::fs::write(
        dir.path().join("a-invalid.yaml"),
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: [oops\n",
    )?;
    std::fs::write(
        dir.path().join("b-typo.yaml"),
        "apiVersion: apps/v1\nkind: Deploymnet\nmetadata: {name: web}\n",
    )?;
    let big = "# generated\n".repeat(10 * 1024 * 1024 / 12);
    std::fs::write(dir.path().join("c-huge.yaml"), &big)?;
    std::fs::copy(
        format!("{}/cycle2.yaml", fixtures()),
        dir.path().join("d-cycle.yaml"),
    )?;
    let out = lint(&[dir.path().to_str().unwrap()], None)?;
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr)?;
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 3, "{err}");
    assert!(
        lines[0].contains("a-invalid.yaml: invalid YAML/JSON: "),
        "{err}"
    );
    assert!(
        lines[1].ends_with("b-typo.yaml:1: unknown kind `Deploymnet` in apps/v1"),
        "{err}"
    );
    assert!(
        lines[2].ends_with(&format!(
            "c-huge.yaml: {} bytes is over the 8388608-byte limit for one manifest input",
            big.len()
        )),
        "{err}"
    );
    // The readable file is still linted.
    assert!(String::from_utf8(out.stdout)?.contains("d-cycle.yaml:41: error init.deadlock"));
    Ok(())
}

#[test]
fn cluster_state_settles_waits_on_what_already_runs() -> anyhow::Result<()> {
    let manifest = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop}
spec:
  template:
    metadata: {labels: {app: api}}
    spec:
      initContainers:
        - name: wait-db
          image: busybox
          command: [sh, -c, "timeout 60 sh -c 'until nc -z postgres 5432; do sleep 1; done'"]
      containers: [{name: api, image: api}]
"#;
    let dir = tempfile::tempdir()?;
    // As `kubectl get services,jobs -A -o json` prints it.
    let cluster = dir.path().join("cluster.json");
    std::fs::write(
        &cluster,
        r#"{"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""}, "items": [
  {"apiVersion": "v1", "kind": "Service",
   "metadata": {"name": "postgres", "namespace": "shop", "uid": "5d1c", "resourceVersion": "88"},
   "spec": {"clusterIP": "10.96.4.12", "ports": [{"name": "pg", "port": 5432, "protocol": "TCP", "targetPort": 5432}],
            "selector": {"app": "postgres"}, "type": "ClusterIP"},
   "status": {"loadBalancer": {}}}
]}"#,
    )?;
    // A wait on a missing Service is a warning: --strict makes it fail the step.
    let alone = lint(&["-", "--strict"], Some(manifest))?;
    assert_eq!(alone.status.code(), Some(1));
    assert!(
        String::from_utf8(alone.stdout)?.contains("Service shop/postgres is not in the manifests"),
    );
    let known = lint(
        &["-", "--cluster", cluster.to_str().unwrap()],
        Some(manifest),
    )?;
    let text = String::from_utf8(known.stdout)?;
    assert_eq!(known.status.code(), Some(0), "{text}");
    assert!(!text.contains("init.blocked"), "{text}");

    std::fs::write(&cluster, "{\"items\": [")?;
    let bad = lint(
        &["-", "--cluster", cluster.to_str().unwrap()],
        Some(manifest),
    )?;
    assert_eq!(bad.status.code(), Some(2));
    let err = String::from_utf8(bad.stderr)?;
    assert!(
        err.contains("--cluster ") && err.contains("cluster.json: not JSON (line 1"),
        "{err}"
    );
    Ok(())
}
