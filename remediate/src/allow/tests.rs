use super::*;

#[test]
fn entries_add_up_per_namespace() {
    let list = Allowlist::parse(&[
        "ci=job.suspend,job.active-deadline-seconds:7200",
        " batch = job.ttl-seconds-after-finished ",
        "ci=job.active-deadline-seconds:3600",
    ])
    .unwrap();
    assert_eq!(
        list.in_namespace("ci"),
        [Change::JobSuspend, Change::JobDeadline { max: 3600 }]
    );
    assert_eq!(list.in_namespace("batch"), [Change::JobTtl]);
    assert!(list.in_namespace("prod").is_empty());
    assert_eq!(
        list.job_field("ci", "activeDeadlineSeconds"),
        Some(Change::JobDeadline { max: 3600 })
    );
    assert_eq!(list.job_field("batch", "suspend"), None);
    assert_eq!(
        list.describe(),
        "batch=[job.ttl-seconds-after-finished] ci=[job.suspend,job.active-deadline-seconds:3600]"
    );
}

#[test]
fn the_default_allows_nothing() {
    let empty: [&str; 0] = [];
    let list = Allowlist::parse(&empty).unwrap();
    assert!(list.is_empty());
    assert_eq!(list.describe(), "nothing (report only)");
    assert!(Allowlist::parse(&[""]).unwrap().is_empty());
}

#[test]
fn bad_entries_say_what_is_wrong() {
    assert!(matches!(
        Allowlist::parse(&["job.suspend"]),
        Err(AllowError::Shape(_))
    ));
    assert!(matches!(
        Allowlist::parse(&["=job.suspend"]),
        Err(AllowError::Shape(_))
    ));
    assert!(matches!(
        Allowlist::parse(&["ci=deployment.replicas"]),
        Err(AllowError::Unknown(_))
    ));
    for unbounded in [
        "ci=job.active-deadline-seconds",
        "ci=job.active-deadline-seconds:0",
        "ci=job.active-deadline-seconds:-5",
        "ci=job.active-deadline-seconds:lots",
    ] {
        assert!(
            matches!(Allowlist::parse(&[unbounded]), Err(AllowError::Bound(_))),
            "{unbounded}"
        );
    }
    assert!(matches!(
        Allowlist::parse(&["ci=job.suspend:3"]),
        Err(AllowError::Unknown(_))
    ));
}
