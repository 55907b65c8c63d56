use super::*;

#[test]
fn replay_within_ttl_is_refused_and_allowed_after() {
    let mut log = DeliveryLog::new(Duration::from_secs(60), 100);
    let t = Instant::now();
    assert!(log.first_time("a", t));
    assert!(!log.first_time("a", t + Duration::from_secs(59)));
    assert!(log.first_time("a", t + Duration::from_secs(61)));
}

#[test]
fn capacity_bounds_memory() {
    let mut log = DeliveryLog::new(Duration::from_secs(3600), 3);
    let t = Instant::now();
    for id in ["a", "b", "c", "d"] {
        assert!(log.first_time(id, t));
    }
    assert!(log.seen.len() <= 3);
    assert!(log.first_time("a", t), "the oldest was forgotten");
    log.forget("d");
    assert!(log.first_time("d", t));
}
