//! Bad plugin files and bad configuration are refused at start with a clear
//! message naming the file and the reason; `wsgate check` says the same.

use std::process::Command;

use wsgate_tests::{GatewayBuilder, check, component, wsgate, wsgate_binary};

/// The smallest valid core WebAssembly module: magic and version 1.
const CORE_MODULE: &[u8] = b"\0asm\x01\x00\x00\x00";

#[test]
fn a_file_that_is_not_webassembly_is_refused_at_start() {
    let stderr = GatewayBuilder::new()
        .file("$default.wasm", b"this is not wasm")
        .start_and_fail();
    assert!(stderr.contains("$default.wasm"), "{stderr}");
    assert!(stderr.contains("not a WebAssembly file"), "{stderr}");
}

#[test]
fn a_core_module_is_refused_with_how_to_make_a_component() {
    let stderr = GatewayBuilder::new()
        .file("$default.wasm", CORE_MODULE)
        .start_and_fail();
    assert!(
        stderr.contains("core WebAssembly module, not a component"),
        "{stderr}"
    );
    assert!(stderr.contains("wasm32-wasip2"), "{stderr}");
}

#[test]
fn a_component_of_another_world_is_refused() {
    let stderr = GatewayBuilder::new()
        .component("$default.wasm", "not-a-handler")
        .start_and_fail();
    assert!(
        stderr.contains(
            "does not export `wsgate:gateway/handler@0.2.0` or `wsgate:gateway/handler@0.1.0`"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("wasi:cli/run"), "{stderr}");
    assert!(stderr.contains("cdylib"), "{stderr}");
}

#[test]
fn a_config_binding_a_missing_file_is_refused() {
    let stderr = GatewayBuilder::new()
        .config("[routes]\n\"$default\" = \"absent.wasm\"\n")
        .start_and_fail();
    assert!(stderr.contains("absent.wasm"), "{stderr}");
}

#[test]
fn a_bad_config_file_is_refused() {
    let typo = GatewayBuilder::new()
        .config("lisen = \"127.0.0.1:1\"\n")
        .start_and_fail();
    assert!(
        typo.contains("invalid config file") && typo.contains("lisen"),
        "{typo}"
    );
    let missing = GatewayBuilder::new()
        .args(&["--config", "/nonexistent/wsgate.toml"])
        .start_and_fail();
    assert!(
        missing.contains("cannot read the config file /nonexistent/wsgate.toml"),
        "{missing}"
    );
    let expression = GatewayBuilder::new()
        .args(&["--route-selection-expression", "action"])
        .start_and_fail();
    assert!(
        expression.contains("invalid route selection expression"),
        "{expression}"
    );
}

#[test]
fn check_accepts_a_handler_and_explains_what_is_wrong_with_the_rest() {
    let (ok, text) = check(&component("wsgate-echo"));
    assert!(ok && text.contains("is a wsgate route handler"), "{text}");

    let (ok, text) = check(&component("not-a-handler"));
    assert!(!ok && text.contains("does not export"), "{text}");

    let dir = tempfile::tempdir().unwrap();
    let core = dir.path().join("core.wasm");
    std::fs::write(&core, CORE_MODULE).unwrap();
    let (ok, text) = check(&core);
    assert!(!ok && text.contains("not a component"), "{text}");

    let (ok, text) = check(&dir.path().join("missing.wasm"));
    assert!(!ok && text.contains("cannot read it"), "{text}");
}

#[test]
fn a_component_outside_the_plugins_directory_is_refused_naming_the_route_and_the_path() {
    // A sibling of the plugins directory, holding a valid component.
    let outside = tempfile::tempdir().unwrap();
    std::fs::copy(component("probe"), outside.path().join("probe.wasm")).unwrap();
    let sibling = outside.path().file_name().unwrap().to_str().unwrap();

    let stderr = GatewayBuilder::new()
        .config(&format!(
            "[routes]\nsendmessage = \"../{sibling}/probe.wasm\"\n"
        ))
        .start_and_fail();
    assert!(stderr.contains("route `sendmessage`"), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "../{sibling}/probe.wasm is outside the plugins directory"
        )),
        "{stderr}"
    );

    let linked = GatewayBuilder::new();
    std::os::unix::fs::symlink(
        outside.path().join("probe.wasm"),
        linked.dir().join("sneaky.wasm"),
    )
    .unwrap();
    let stderr = linked.start_and_fail();
    assert!(stderr.contains("route `sneaky`"), "{stderr}");
    assert!(
        stderr.contains("sneaky.wasm is outside the plugins directory"),
        "{stderr}"
    );
}

#[test]
fn a_number_out_of_its_range_is_refused_naming_the_option_and_the_range() {
    let cases = [
        (
            GatewayBuilder::new().args(&["--handler-memory-mb", "17592186044480"]),
            "handler_memory_mb (--handler-memory-mb, WSGATE_HANDLER_MEMORY_MB) must be in 1..=4096, not 17592186044480",
        ),
        (
            GatewayBuilder::new().config("outbound_queue = 0\n"),
            "outbound_queue (--outbound-queue, WSGATE_OUTBOUND_QUEUE) must be in 1..=",
        ),
        (
            GatewayBuilder::new().env("WSGATE_PING_TIMEOUT", "0s"),
            "ping_timeout (--ping-timeout, WSGATE_PING_TIMEOUT) must be in 1ms..=",
        ),
        (
            GatewayBuilder::new()
                .component("probe.wasm", "probe")
                .config("[routes.sendmessage]\ncomponent = \"probe.wasm\"\nrate = 0\n"),
            "route `sendmessage`: `rate` must be in 1..=",
        ),
    ];
    for (gateway, expected) in cases {
        let stderr = gateway.start_and_fail();
        assert!(stderr.contains(expected), "{expected}:\n{stderr}");
    }
}

#[test]
fn check_takes_files_and_plugins_directories_and_reports_every_problem_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let plugins = dir.path().join("plugins");
    std::fs::create_dir(&plugins).unwrap();
    std::fs::copy(component("wsgate-echo"), plugins.join("echo.wasm")).unwrap();
    std::fs::copy(component("probe"), plugins.join("probe.wasm")).unwrap();
    std::fs::write(plugins.join("$default.wasm"), b"this is not wasm").unwrap();
    std::fs::write(
        plugins.join("wsgate.toml"),
        "[routes]\n\"$connect\" = \"probe.wasm\"\n\"$disconnect\" = \"probe.wasm\"\n\"shout\" = \"absent.wasm\"\n",
    )
    .unwrap();
    let broken = dir.path().join("broken");
    std::fs::create_dir(&broken).unwrap();
    std::fs::write(broken.join("wsgate.toml"), "[routes\n").unwrap();
    let sources = dir.path().join("sources");
    std::fs::create_dir_all(sources.join("echo/src")).unwrap();

    let (ok, text) = wsgate(
        Command::new(wsgate_binary())
            .arg("check")
            .args([&plugins, &broken, &sources])
            .arg(component("not-a-handler"))
            .arg(component("wsgate-echo")),
    );
    assert!(!ok, "{text}");
    for said in [
        // The plugins directory: what serves, and each problem.
        "echo.wasm is a wsgate route handler",
        "it serves $connect, $disconnect",
        "route `shout` to `absent.wasm`",
        "$default.wasm: not a WebAssembly file",
        // The directory whose wsgate.toml does not parse.
        "invalid config file",
        // A source tree instead of built components.
        "binds no route (it holds directories: echo)",
        // The files.
        "does not export",
        "5 problems found",
    ] {
        assert!(text.contains(said), "{said}: {text}");
    }
}
