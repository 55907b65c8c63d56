use super::*;

#[test]
fn input_at_the_limit_is_read_and_one_byte_more_is_refused() {
    let at = vec![b'x'; 1024];
    assert_eq!(read_all(&at[..], 1024, "stdin").unwrap().len(), 1024);
    let over = vec![b'x'; 1025];
    let err = read_all(&over[..], 1024, "stdin").unwrap_err().to_string();
    assert!(err.starts_with("stdin is larger than 0 MiB"), "{err}");
    assert!(!err.contains('\n'));
    assert!(err.contains("-n NS") && err.contains("jq"), "{err}");
}
