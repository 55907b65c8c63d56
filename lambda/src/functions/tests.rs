use super::pick;

#[test]
fn the_only_linked_function_is_hosted_unless_another_is_requested() {
    assert_eq!(pick(&["pending"], None), Ok(0));
    assert_eq!(pick(&["pending"], Some("pending")), Ok(0));
    assert_eq!(pick(&["pending"], Some(" ")), Ok(0));
    let err = pick(&["pending"], Some("image-pull"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("hosts only pending") && err.contains("--features image-pull"),
        "{err}"
    );
}

#[test]
fn no_linked_function_or_an_ambiguous_build_is_a_clear_error() {
    let err = pick(&[], Some("pending")).unwrap_err().to_string();
    assert!(err.contains("without a function"), "{err}");
    assert!(err.contains("--features pending"), "{err}");
    let err = pick(&["pending", "build"], None).unwrap_err().to_string();
    assert!(err.contains("set LASTMILE_FUNCTION"), "{err}");
    assert_eq!(pick(&["pending", "build"], Some("build")), Ok(1));
}
