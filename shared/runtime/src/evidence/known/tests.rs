use std::time::Duration;

use super::*;

#[test]
fn remembers_what_it_was_told() {
    let known = KnownObjects::default();
    assert!(!known.contains("objects/sha256/ab"));
    known.insert_all(["objects/sha256/ab", "objects/sha256/cd"]);
    assert!(known.contains("objects/sha256/ab"));
    assert!(known.contains("objects/sha256/cd"));
    assert!(!known.contains("objects/sha256/ef"));
}

#[test]
fn never_holds_more_than_its_capacity() {
    let known = KnownObjects::with_bounds(3, LIFETIME);
    let keys: Vec<String> = (0..10).map(|i| format!("objects/sha256/{i}")).collect();
    for key in &keys {
        known.insert_all([key.as_str()]);
        assert!(known.lock().keys.len() <= 3);
        assert!(known.contains(key), "the newest key is always known");
    }
    // The generation holding the last key started over at 9 (after 0-2, 3-5, 6-8).
    assert!(!known.contains(&keys[0]));
    assert!(!known.contains(&keys[8]));
}

#[test]
fn a_repeated_key_takes_no_room() {
    let known = KnownObjects::with_bounds(2, LIFETIME);
    known.insert_all(["a", "b", "a", "b", "a"]);
    assert!(known.contains("a") && known.contains("b"));
}

#[test]
fn an_old_generation_is_not_trusted() {
    let known = KnownObjects::with_bounds(CAPACITY, Duration::ZERO);
    known.insert_all(["objects/sha256/ab"]);
    assert!(!known.contains("objects/sha256/ab"));
    // Inserting into an expired generation starts a new one first.
    let known = KnownObjects::with_bounds(CAPACITY, Duration::from_millis(20));
    known.insert_all(["old"]);
    std::thread::sleep(Duration::from_millis(30));
    known.insert_all(["new"]);
    assert_eq!(known.lock().keys.len(), 1);
}
