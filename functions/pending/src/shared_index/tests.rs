use super::*;

#[test]
fn the_same_snapshot_is_indexed_once_and_another_replaces_it() {
    let cache = IndexCache::new();
    let index_for = |s| cache.index_for(s);
    let a = Arc::new(ClusterSnapshot::default());
    let first = index_for(&a);
    let again = index_for(&a);
    assert!(Arc::ptr_eq(&first, &again), "same Arc: the cached index");
    let b = Arc::new(ClusterSnapshot::default());
    let other = index_for(&b);
    assert!(
        !Arc::ptr_eq(&first, &other),
        "an equal but other snapshot is indexed anew"
    );
    assert!(Arc::ptr_eq(other.backing_cart(), &b));
}
