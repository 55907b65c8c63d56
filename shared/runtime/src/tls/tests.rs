#[test]
fn installs_one_provider_and_is_idempotent() {
    super::install_crypto_provider();
    let first = rustls::crypto::CryptoProvider::get_default().map(std::sync::Arc::as_ptr);
    super::install_crypto_provider();
    let second = rustls::crypto::CryptoProvider::get_default().map(std::sync::Arc::as_ptr);
    assert!(first.is_some());
    assert_eq!(first, second);
}
