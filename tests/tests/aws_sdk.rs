//! The real AWS SDK for Python (boto3's `apigatewaymanagementapi` client, only
//! `endpoint_url` changed) against the management API with SigV4 keys: post,
//! get, delete, and the typed exceptions.

use wsgate_tests::{GatewayBuilder, python_tool};

#[tokio::test]
async fn boto3_posts_gets_and_deletes_with_typed_errors() {
    let gateway = GatewayBuilder::new()
        .probe(&["$connect", "$disconnect", "whoami"])
        .args(&["--stage", "prod", "--max-message-size", "1024"])
        .args(&[
            "--api-key",
            "AKIDWSGATETEST:wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        ])
        .start();
    let mut observer = gateway.connect("/?observe=1").await;
    let mut client = gateway.connect("/").await;
    let id = client.whoami_id().await;

    let script = wsgate_tests::workspace_root().join("tests/python/aws_sdk.py");
    let output = tokio::process::Command::new(python_tool("python"))
        .arg(script)
        .arg(format!("http://{}/prod", gateway.api_addr))
        .args([
            "AKIDWSGATETEST",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            &id,
        ])
        .output()
        .await
        .expect("run the boto3 script");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "boto3 script failed:\n{stdout}\n{stderr}"
    );
    println!("{stdout}");

    assert_eq!(client.recv_text().await, "hello from boto3");
    let frame = client.recv_close().await.expect("a close frame");
    assert_eq!(u16::from(frame.code), 1000);
    let report = observer.recv_json().await;
    assert_eq!(report["connectionId"], id.as_str());
    assert_eq!(report["initiator"], "api");
}
