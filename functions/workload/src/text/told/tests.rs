//! Init containers and Jobs told about in words, in other wordings and tools than the
//! reports the rules were first written for.

use lastmile_events::{Class, Incident, IncidentFamily, ObjectRef};

fn classes(text: &str) -> Vec<Class> {
    let subject = ObjectRef {
        kind: "Pod".into(),
        namespace: Some("app".into()),
        name: "api-0".into(),
        ..Default::default()
    };
    let mut inc = Incident::new(
        IncidentFamily::Init,
        subject,
        None,
        chrono::DateTime::<chrono::Utc>::UNIX_EPOCH,
    );
    inc.text = Some(text.to_owned());
    let mut ds = super::super::diagnose(&inc);
    ds.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
    ds.into_iter().map(|d| d.class).collect()
}

/// An init container named by convention (`init-*`, `*-init`, `*-wait`) and said to keep
/// restarting or to have failed is a crash loop; a main container said so is not, nor is a
/// VM's cloud-init.
#[test]
fn a_conventionally_named_init_container_said_to_crash_crash_loops() {
    for text in [
        "kubectl logs api-6d9f -c init-schema shows the migration error, and init-schema keeps restarting",
        "istio-init failed with iptables-restore: line 3 failed",
        "The db-wait container is crash looping since the upgrade.",
        "After the node reboot the pod sits in Init CrashLoopBackOff.",
        "CrashLoopBackOff on the init container after upgrading the chart",
        "my init container copies the config and fails:\nError: EACCES: permission denied, open '/data/config.json'",
    ] {
        assert_eq!(classes(text).first(), Some(&Class::InitCrashloop), "{text}");
    }
    for text in [
        "The init container finished, but the app container keeps restarting.",
        "cloud-init failed with a timeout on the new node",
        "The keycloak-db-init job keeps failing after the upgrade.",
    ] {
        assert!(!classes(text).contains(&Class::InitCrashloop), "{text}");
    }
}

/// A kernel-setting step (sysctl, a write to /proc/sys) denied in an init container.
#[test]
fn a_denied_kernel_setting_step_in_an_init_container_crash_loops() {
    for text in [
        "Init:0/1\nsh: can't create /proc/sys/vm/max_map_count: Read-only file system",
        "PodInitializing\nsysctl: permission denied on key 'net.core.somaxconn'",
    ] {
        assert_eq!(classes(text).first(), Some(&Class::InitCrashloop), "{text}");
    }
    assert!(classes("sysctl: permission denied on key 'net.core.somaxconn'").is_empty());
}

/// An init container said in words to keep waiting for a database, service or migration.
#[test]
fn an_init_container_said_to_keep_waiting_is_blocked() {
    for text in [
        "Our init container is stuck waiting for postgres even though the database is up.",
        "The initialization container waits forever for the migrations to finish.",
        "the init step container just keeps waiting on the redis service",
    ] {
        assert_eq!(classes(text).first(), Some(&Class::InitBlocked), "{text}");
    }
}

/// A non-zero exit of an init container told in plain words.
#[test]
fn an_init_container_exit_told_in_plain_words_crash_loops() {
    for text in [
        "the script in pod.beta.kubernetes.io/init-containers exits with 2 every time",
        "my init container returns a non-zero code and nothing is logged",
    ] {
        assert_eq!(classes(text).first(), Some(&Class::InitCrashloop), "{text}");
    }
}

/// An error line beside an init container said to have finished, or beside the app
/// container, is not read above a main container's crash.
#[test]
fn an_error_line_beside_a_finished_init_container_stays_low() {
    let text = "The init container finished fine. The app container keeps restarting; logs:\nError: listen EADDRINUSE: address already in use :::3000";
    let subject = ObjectRef {
        kind: "Pod".into(),
        name: "web-0".into(),
        ..Default::default()
    };
    let mut inc = Incident::new(
        IncidentFamily::Init,
        subject,
        None,
        chrono::DateTime::<chrono::Utc>::UNIX_EPOCH,
    );
    inc.text = Some(text.to_owned());
    let ds = super::super::diagnose(&inc);
    assert!(
        ds.iter()
            .all(|d| d.class != Class::InitCrashloop || d.confidence < 0.7),
        "{ds:?}"
    );
}

/// A probe in a Job's own container is the Job's work, not an init container's wait.
#[test]
fn a_probe_in_a_jobs_own_command_is_no_init_wait() {
    let text = "apiVersion: batch/v1\nkind: Job\nspec:\n  template:\n    spec:\n      containers:\n      - name: ping\n        command: [\"sh\", \"-c\", \"until nc -z db 5432; do sleep 2; done\"]";
    assert!(!classes(text).contains(&Class::InitBlocked), "{text}");
}
