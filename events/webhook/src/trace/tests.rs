use super::*;

#[test]
fn continues_a_valid_trace_and_replaces_garbage() {
    let parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let child = continue_or_start(Some(parent));
    assert!(is_valid(&child));
    assert_eq!(trace_id(&child), Some("4bf92f3577b34da6a3ce929d0e0e4736"));
    assert_ne!(child, parent);
    for bad in [
        "",
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "garbage",
    ] {
        let fresh = continue_or_start(Some(bad));
        assert!(is_valid(&fresh), "{fresh}");
        assert_ne!(trace_id(&fresh), Some("4bf92f3577b34da6a3ce929d0e0e4736"));
    }
}
