use super::*;
use axum::http::StatusCode;

#[test]
fn github_documented_example_signature_verifies() {
    // The example from GitHub's "Validating webhook deliveries" documentation.
    let sig = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
    assert!(
        hmac_sha256(
            b"It's a Secret to Everybody",
            b"Hello, World!",
            Some(sig),
            "X-Hub-Signature-256"
        )
        .is_ok()
    );
    assert_eq!(sign(b"It's a Secret to Everybody", b"Hello, World!"), sig);
}

#[test]
fn tampered_unsigned_and_malformed_signatures_are_told_apart() {
    let good = sign(b"s", b"body");
    assert_eq!(
        hmac_sha256(b"s", b"body!", Some(&good), "X")
            .unwrap_err()
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        hmac_sha256(b"s", b"body", None, "X").unwrap_err().status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        hmac_sha256(b"s", b"body", Some("sha1=abc"), "X")
            .unwrap_err()
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        hmac_sha256(b"s", b"body", Some("sha256=zz"), "X")
            .unwrap_err()
            .status,
        StatusCode::FORBIDDEN
    );
}

#[test]
fn token_must_match_exactly() {
    assert!(token(b"glpat-secret", Some("glpat-secret"), "X-Gitlab-Token").is_ok());
    assert_eq!(
        token(b"glpat-secret", Some("glpat-secreT"), "X")
            .unwrap_err()
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        token(b"glpat-secret", None, "X").unwrap_err().status,
        StatusCode::UNAUTHORIZED
    );
}
