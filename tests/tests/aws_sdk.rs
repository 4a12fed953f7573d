//! The real AWS SDK for Python (boto3's `apigatewaymanagementapi` client, only
//! `endpoint_url` changed) against the management API with SigV4 keys: post,
//! get, delete, and the typed exceptions; and botocore's signer showing that a
//! signature is refused, as AWS refuses it, when its scope names another
//! region or service or it does not cover `host`.

use wsgate_tests::http::request;
use wsgate_tests::{GatewayBuilder, python_tool};

const KEY_ID: &str = "AKIDWSGATETEST";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

#[tokio::test]
async fn boto3_posts_gets_and_deletes_with_typed_errors() {
    let gateway = GatewayBuilder::new()
        .probe(&["$connect", "$disconnect", "whoami"])
        .args(&["--stage", "prod", "--max-message-size", "1024"])
        .args(&["--api-key", &format!("{KEY_ID}:{SECRET}")])
        // The script's client is in eu-west-1.
        .args(&["--api-region", "eu-west-1"])
        .start();
    let mut observer = gateway.connect("/?observe=1").await;
    let mut client = gateway.connect("/").await;
    let id = client.whoami_id().await;

    let script = wsgate_tests::workspace_root().join("tests/python/aws_sdk.py");
    let output = tokio::process::Command::new(python_tool("python"))
        .arg(script)
        .arg(format!("http://{}/prod", gateway.api_addr))
        .args([KEY_ID, SECRET, &id])
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

/// The headers botocore's SigV4 signer adds to `method url` with `body`,
/// scoped to `region` and `service`, with `host` signed or not (`no-host`).
async fn signed_by_botocore(
    method: &str,
    url: &str,
    body: &str,
    region: &str,
    service: &str,
    host: &str,
) -> Vec<(String, String)> {
    let script = wsgate_tests::workspace_root().join("tests/python/sign.py");
    let output = tokio::process::Command::new(python_tool("python"))
        .arg(script)
        .args([method, url, body, KEY_ID, SECRET, region, service, host])
        .output()
        .await
        .expect("run the signing script");
    assert!(
        output.status.success(),
        "signing failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let headers: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&output.stdout).expect("the signed headers as JSON");
    headers
        .into_iter()
        .map(|(name, value)| (name, value.as_str().expect("a header value").to_owned()))
        .collect()
}

#[tokio::test]
async fn a_signature_scoped_elsewhere_or_not_covering_host_is_refused() {
    // The default region, us-east-1.
    let gateway = GatewayBuilder::new()
        .probe(&["whoami"])
        .args(&["--api-key", &format!("{KEY_ID}:{SECRET}")])
        .start();
    let mut client = gateway.connect("/").await;
    let id = client.whoami_id().await;
    let path = format!("/@connections/{id}");
    let url = format!("http://{}{path}", gateway.api_addr);
    let post = |headers: Vec<(String, String)>, body: &'static str| {
        let path = path.clone();
        async move {
            let headers: Vec<(&str, &str)> = headers
                .iter()
                .map(|(name, value)| (name.as_str(), value.as_str()))
                .collect();
            request(gateway.api_addr, "POST", &path, &headers, body.as_bytes()).await
        }
    };
    let refusals = [
        ("eu-west-1", "execute-api", "host", "the region `eu-west-1`"),
        ("us-east-1", "s3", "host", "the service `s3`"),
        (
            "us-east-1",
            "execute-api",
            "no-host",
            "does not cover the host header",
        ),
    ];
    for (region, service, host, says) in refusals {
        let body = "signed wrong";
        let headers = signed_by_botocore("POST", &url, body, region, service, host).await;
        let response = post(headers, body).await;
        response.assert_error(403, "ForbiddenException");
        let message = response.json()["message"].as_str().unwrap().to_owned();
        assert!(
            message.contains(says),
            "{region}/{service}/{host}: {message}"
        );
    }
    let body = "signed right";
    let headers = signed_by_botocore("POST", &url, body, "us-east-1", "execute-api", "host").await;
    let response = post(headers, body).await;
    assert_eq!(response.status, 200, "{}", response.text());
    // The first message the client gets: none of the refused ones went out.
    assert_eq!(client.recv_text().await, "signed right");
}
