//! wss with a certificate made by the test, reloaded when its files change.

use rcgen::{CertifiedKey, generate_simple_self_signed};
use wsgate_tests::{Client, GatewayBuilder, WAIT, eventually};

fn certificate() -> CertifiedKey<rcgen::KeyPair> {
    generate_simple_self_signed(vec!["localhost".to_owned()]).expect("generate a certificate")
}

#[tokio::test]
async fn a_wss_client_talks_through_tls_and_a_renewed_certificate_is_picked_up() {
    let dir = tempfile::tempdir().unwrap();
    let (cert_path, key_path) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let first = certificate();
    std::fs::write(&cert_path, first.cert.pem()).unwrap();
    std::fs::write(&key_path, first.signing_key.serialize_pem()).unwrap();

    let gateway = GatewayBuilder::new()
        .component("$default.wasm", "wsgate-echo")
        .args(&[
            "--tls-cert",
            cert_path.to_str().unwrap(),
            "--tls-key",
            key_path.to_str().unwrap(),
        ])
        .start();
    let url = format!("wss://localhost:{}/", gateway.addr.port());

    let mut client = Client::connect_tls(&url, first.cert.der())
        .await
        .expect("wss connects");
    client.send_text("over tls").await;
    assert_eq!(client.recv_text().await, "over tls");

    // A client that does not trust the certificate is refused by its own TLS check.
    let stranger = certificate();
    assert!(
        Client::connect_tls(&url, stranger.cert.der())
            .await
            .is_err()
    );

    // Renew: new connections get the new certificate, the open one carries on.
    let second = certificate();
    std::fs::write(&key_path, second.signing_key.serialize_pem()).unwrap();
    std::fs::write(&cert_path, second.cert.pem()).unwrap();
    eventually("the renewed certificate is served", WAIT, async || {
        Client::connect_tls(&url, second.cert.der()).await
    })
    .await;
    gateway.wait_for_log("TLS certificate reloaded").await;
    client.send_text("still here").await;
    assert_eq!(client.recv_text().await, "still here");
}
