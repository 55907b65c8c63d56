use super::*;

#[test]
fn entries_expire_after_the_ttl() {
    let c = TtlCache::new(Duration::from_secs(10), 8);
    let t0 = Instant::now();
    c.put("a", 1, t0);
    assert_eq!(c.get(&"a", t0 + Duration::from_secs(9)), Some(1));
    assert_eq!(c.get(&"a", t0 + Duration::from_secs(10)), None);
    assert_eq!(c.get(&"b", t0), None);
}

#[test]
fn a_full_cache_drops_expired_entries_first_then_everything() {
    let c = TtlCache::new(Duration::from_secs(10), 2);
    let t0 = Instant::now();
    c.put("old", 1, t0);
    c.put("fresh", 2, t0 + Duration::from_secs(8));
    c.put("new", 3, t0 + Duration::from_secs(12));
    assert_eq!(c.len(), 2, "the expired entry made room");
    assert_eq!(c.get(&"fresh", t0 + Duration::from_secs(12)), Some(2));
    c.put("newer", 4, t0 + Duration::from_secs(13));
    assert_eq!(c.len(), 1, "nothing expired: cleared, then stored");
    assert_eq!(c.get(&"newer", t0 + Duration::from_secs(13)), Some(4));
}

#[test]
fn zero_ttl_disables_caching() {
    let c = TtlCache::new(Duration::ZERO, 8);
    c.put("a", 1, Instant::now());
    assert!(c.is_empty());
}
