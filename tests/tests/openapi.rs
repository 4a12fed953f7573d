//! The server against its OpenAPI document (`docs/openapi.yaml`):
//! schemathesis generates valid and invalid requests for every documented
//! operation and checks each response's status, headers, content type and
//! body against the document, that invalid input and missing credentials are
//! refused, and that undocumented methods get 405 with a matching `Allow`
//! (all but the live tail's endless event stream).

use wsgate_tests::{GatewayBuilder, python_tool, workspace_root};

#[tokio::test]
async fn the_server_conforms_to_its_openapi_document() {
    let gateway = GatewayBuilder::new()
        .probe(&["$connect", "whoami"])
        .api_token("openapi-token")
        .args(&["--access-log", "off"])
        .start();
    // A few live connections, so listings are not all empty.
    let mut clients = Vec::new();
    for room in ["red", "red", "blue"] {
        clients.push(gateway.connect(&format!("/?room={room}")).await);
    }
    let work_dir = tempfile::tempdir().unwrap();
    let output = tokio::process::Command::new(python_tool("schemathesis"))
        .current_dir(work_dir.path())
        .arg("run")
        .arg(workspace_root().join("docs/openapi.yaml"))
        .args(["--url", &format!("http://{}", gateway.api_addr)])
        .args(["--header", "Authorization: Bearer openapi-token"])
        .args(["--checks", "all"])
        // Random ids name no connection, so valid requests rightly get 410;
        // the stateful checks need links the document does not declare.
        .args(["--exclude-checks", "positive_data_acceptance,use_after_free,ensure_resource_availability,object_level_authorization"])
        // The live tail's stream never ends, so no response of it is whole to
        // check; tests/tests/console.rs tests it.
        .args(["--exclude-path", "/@tail"])
        .args(["--phases", "examples,coverage,fuzzing"])
        .args(["--max-examples", "10", "--seed", "7", "--workers", "1"])
        .args(["--generation-database", "none", "--warnings", "off", "--no-color"])
        .output()
        .await
        .expect("run schemathesis");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "schemathesis found the server and docs/openapi.yaml disagreeing:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    println!("{stdout}");
}
