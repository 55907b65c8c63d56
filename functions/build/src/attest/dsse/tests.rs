use super::*;
use p256::pkcs8::{EncodePrivateKey, LineEnding};

fn key() -> SigningKey {
    SigningKey::from_slice(&[7u8; 32]).unwrap()
}

#[test]
fn pae_is_the_dsse_spec_encoding() {
    assert_eq!(
        pae("http://example.com/HelloWorld", b"hello world"),
        b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
    );
}

#[test]
fn signed_envelopes_verify_and_tampering_fails() {
    let sk = key();
    let pem = sk.to_pkcs8_pem(LineEnding::LF).unwrap();
    let sk = signing_key(&pem, None).unwrap();
    let vk_pem = sk
        .verifying_key()
        .to_public_key_pem(LineEnding::LF)
        .unwrap();
    let vk = verifying_key(&vk_pem).unwrap();
    let env = sign(IN_TOTO_PAYLOAD_TYPE, b"{\"a\":1}", &sk);
    assert_eq!(env.verify(&vk).unwrap(), b"{\"a\":1}");
    let mut tampered = env.clone();
    tampered.payload = STANDARD.encode(b"{\"a\":2}");
    assert!(matches!(
        tampered.verify(&vk),
        Err(DsseError::BadSignature(_))
    ));
    let other = SigningKey::from_slice(&[9u8; 32]).unwrap();
    assert!(env.verify(other.verifying_key()).is_err());
}

#[test]
fn cosign_encrypted_keys_need_their_password() {
    let e = signing_key("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\neyJrZGYiOnsibmFtZSI6InNjcnlwdCIsInBhcmFtcyI6eyJOIjoxNiwiciI6OCwicCI6MX0sInNhbHQiOiJBQT09In0sImNpcGhlciI6eyJuYW1lIjoibmFjbC9zZWNyZXRib3giLCJub25jZSI6IkFBPT0ifSwiY2lwaGVydGV4dCI6IkFBPT0ifQ==\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n", None)
            .unwrap_err()
            .to_string();
    assert!(e.contains("COSIGN_PASSWORD") && !e.contains('\n'), "{e}");
}
