use super::*;

/// Seals `plain` the way go-securesystemslib does (cheap scrypt cost for the test).
fn seal(plain: &[u8], password: &str, log_n: u8, kdf: &str) -> String {
    let salt = [5u8; 32];
    let nonce = [9u8; 24];
    let params = scrypt::Params::new(log_n, 8, 1, 32).unwrap();
    let mut key = [0u8; 32];
    scrypt::scrypt(password.as_bytes(), &salt, &params, &mut key).unwrap();
    let ct = XSalsa20Poly1305::new((&key).into())
        .encrypt(Nonce::from_slice(&nonce), plain)
        .unwrap();
    let json = serde_json::json!({
        "kdf": {"name": kdf, "params": {"N": 1u64 << log_n, "r": 8, "p": 1}, "salt": STANDARD.encode(salt)},
        "cipher": {"name": "nacl/secretbox", "nonce": STANDARD.encode(nonce)},
        "ciphertext": STANDARD.encode(ct),
    });
    let b64 = STANDARD.encode(serde_json::to_vec(&json).unwrap());
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n{}\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n",
        lines.join("\n")
    )
}

#[test]
fn opens_with_the_right_password_only() {
    let pem = seal(b"pkcs8 der bytes", "hunter2", 10, "scrypt");
    assert!(is_cosign_encrypted(&pem));
    assert_eq!(decrypt(&pem, Some("hunter2")).unwrap(), b"pkcs8 der bytes");
    assert!(matches!(
        decrypt(&pem, Some("hunter3")),
        Err(CosignKeyError::WrongPassword)
    ));
    assert!(matches!(
        decrypt(&pem, None),
        Err(CosignKeyError::NoPassword)
    ));
}

#[test]
fn older_label_is_read_too() {
    let pem = seal(b"k", "pw", 4, "scrypt").replace("SIGSTORE", "COSIGN");
    assert!(is_cosign_encrypted(&pem));
    assert_eq!(decrypt(&pem, Some("pw")).unwrap(), b"k");
}

#[test]
fn other_kdfs_and_bad_parameters_are_named() {
    let pem = seal(b"k", "pw", 4, "argon2");
    let e = decrypt(&pem, Some("pw")).unwrap_err().to_string();
    assert!(e.contains("argon2"), "{e}");
    // A cost that is not a power of two, and one that would need 8 GiB, are refused
    // before any work is done.
    for n in ["1000", "8589934592"] {
        let body = format!(
            r#"{{"kdf":{{"name":"scrypt","params":{{"N":{n},"r":8,"p":1}},"salt":"AA=="}},"cipher":{{"name":"nacl/secretbox","nonce":"{}"}},"ciphertext":"AA=="}}"#,
            STANDARD.encode([0u8; 24])
        );
        let pem = format!(
            "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n{}\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n",
            STANDARD.encode(body)
        );
        let e = decrypt(&pem, Some("pw")).unwrap_err();
        assert!(matches!(e, CosignKeyError::Params { .. }), "{n}: {e}");
    }
}

#[test]
fn damaged_keys_get_one_line_errors() {
    for pem in [
        "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n!!!\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n".to_owned(),
        format!(
            "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n{}\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n",
            STANDARD.encode("{\"kdf\":1}")
        ),
        "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\nAAAA\n".to_owned(),
    ] {
        let e = decrypt(&pem, Some("pw")).unwrap_err().to_string();
        assert!(e.starts_with("not a cosign encrypted key") && !e.contains('\n'), "{e}");
    }
}
