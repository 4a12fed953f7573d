//! `wsgate new`: the project of each language builds with its toolchain,
//! passes `wsgate check` and answers a real client.

use std::path::Path;
use std::process::Command;

use tokio_tungstenite::tungstenite::Message;
use wsgate_tests::projects::{cargo_build, run, toolchain_path, wsgate_new};
use wsgate_tests::{GatewayBuilder, check, wsgate_binary};

/// Checks the component, deploys it into a plugins directory with the
/// project's `plugins/wsgate.toml` (which binds it to `$connect` and
/// `$default`), and talks to it.
async fn greets(project: &Path, component: &Path) {
    let (ok, text) = check(component);
    assert!(ok, "{text}");
    let config = std::fs::read_to_string(project.join("plugins/wsgate.toml")).unwrap();
    let builder = GatewayBuilder::new().config(&config);
    run(Command::new(wsgate_binary())
        .arg("deploy")
        .arg(component)
        .arg("--plugins")
        .arg(builder.dir()));
    let gateway = builder.start();
    let mut client = gateway.connect("/").await;
    client.send_text("ann").await;
    assert_eq!(client.recv_text().await, "hello, ann");
    client.send_binary(&[0, 1, 2]).await;
    assert_eq!(client.recv().await, Message::binary(vec![0, 1, 2]));
    // What the handler printed in $connect is in the gateway's log.
    let name = component.file_name().unwrap().to_str().unwrap();
    gateway
        .wait_for_line(&["connected", "route=$connect", &format!("plugin={name}")])
        .await;
}

#[tokio::test]
async fn a_new_rust_project_builds_where_it_is_moved_and_answers() {
    let dir = tempfile::tempdir().unwrap();
    let made = dir.path().join("made/greeter");
    wsgate_new("rust", &made);
    // Nothing in it points back at where it was made (or at this checkout):
    // it carries the SDK and the WIT world.
    let project = dir.path().join("greeter");
    std::fs::rename(&made, &project).unwrap();
    let manifest = std::fs::read_to_string(project.join("Cargo.toml")).unwrap();
    assert!(manifest.contains(r#"path = "wsgate-sdk""#), "{manifest}");
    greets(&project, &cargo_build(&project, "greeter")).await;
}

#[tokio::test]
async fn a_new_python_project_builds_and_answers() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("greeter");
    wsgate_new("python", &project);
    run(Command::new(project.join("build.sh")).env("PATH", toolchain_path()));
    greets(&project, &project.join("greeter.wasm")).await;
}

#[tokio::test]
async fn a_new_javascript_project_builds_and_answers() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("greeter");
    wsgate_new("js", &project);
    run(Command::new("npm")
        .args(["run", "build"])
        .current_dir(&project)
        .env("PATH", toolchain_path()));
    greets(&project, &project.join("greeter.wasm")).await;
}

#[tokio::test]
async fn a_new_c_project_builds_and_answers() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("greeter");
    wsgate_new("c", &project);
    run(Command::new(project.join("build.sh")).env("PATH", toolchain_path()));
    greets(&project, &project.join("greeter.wasm")).await;
}

#[test]
fn wsgate_new_refuses_a_taken_directory_and_a_name_no_language_accepts() {
    let dir = tempfile::tempdir().unwrap();
    let new = |lang: &str, name: &str| {
        let output = Command::new(wsgate_binary())
            .args(["new", "--lang", lang])
            .arg(dir.path().join(name))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        (output.status.success(), stderr)
    };
    assert!(new("python", "calc").0);
    let (ok, stderr) = new("js", "calc");
    assert!(!ok && stderr.contains("not empty"), "{stderr}");
    let (ok, stderr) = new("rust", "My Handler");
    assert!(!ok && stderr.contains("cannot name a project"), "{stderr}");
    let (ok, stderr) = new("cobol", "ledger");
    assert!(!ok && stderr.contains("rust, python, js"), "{stderr}");
}
