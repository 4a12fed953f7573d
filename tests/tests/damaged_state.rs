//! Damaged state is not trusted: a key-value store file that is empty, has
//! zeroed pages or a flipped byte refuses the start, naming the file and what
//! to do; a compile cache entry whose machine code was overwritten, or that
//! holds another component's artifact, is recompiled with a warning and the
//! route still answers as its own component.

use std::path::{Path, PathBuf};

use serde_json::json;
use wsgate_tests::{GatewayBuilder, WAIT};

/// Something only the test's value contains, to find it in the file.
const MARKER: &str = "wsgate-damaged-state-marker-value";

fn probe_with_kv(data_dir: &Path) -> GatewayBuilder {
    GatewayBuilder::new()
        .component("probe.wasm", "probe")
        .config("[routes]\n\"$default\" = \"probe.wasm\"\nkv = \"probe.wasm\"\n")
        .args(&["--data-dir", data_dir.to_str().unwrap()])
}

/// A store with one value in it, after a clean shutdown; its file.
async fn stored_then_stopped(data_dir: &Path) -> PathBuf {
    let mut gateway = probe_with_kv(data_dir).start();
    let mut client = gateway.connect("/").await;
    client
        .send_json(json!({"action": "kv", "op": "set", "bucket": "b", "key": "k", "value": MARKER}))
        .await;
    assert_eq!(client.recv_json().await, json!({"ok": null}));
    drop(client);
    gateway.signal(libc::SIGTERM);
    assert!(gateway.wait_exit(WAIT).success());
    data_dir.join("kv.redb")
}

/// Starting on `data_dir` is refused, naming the file and the remedy.
fn assert_refused(data_dir: &Path, damage: &str) {
    let error = probe_with_kv(data_dir).start_and_fail();
    let file = data_dir.join("kv.redb");
    assert!(
        error.contains(&format!(
            "the key-value store {} is damaged",
            file.display()
        )),
        "{damage}: {error}"
    );
    assert!(
        error.contains("move it away") && error.contains("restore it from a backup"),
        "{damage}: {error}"
    );
}

#[tokio::test]
async fn an_empty_store_file_is_damaged_not_new() {
    let data = tempfile::tempdir().unwrap();
    std::fs::write(data.path().join("kv.redb"), b"").unwrap();
    assert_refused(data.path(), "an empty file");
    assert!(
        std::fs::metadata(data.path().join("kv.redb"))
            .unwrap()
            .len()
            == 0,
        "the damaged file is left as it was"
    );
}

#[tokio::test]
async fn a_store_file_with_zeroed_pages_refuses_the_start() {
    let data = tempfile::tempdir().unwrap();
    let file = stored_then_stopped(data.path()).await;
    let mut bytes = std::fs::read(&file).unwrap();
    let page = 4096;
    assert!(bytes.len() > 2 * page, "{} bytes", bytes.len());
    bytes[page..].fill(0);
    std::fs::write(&file, bytes).unwrap();
    assert_refused(data.path(), "zeroed pages");
}

#[tokio::test]
async fn a_store_file_with_a_flipped_byte_refuses_the_start() {
    let data = tempfile::tempdir().unwrap();
    let file = stored_then_stopped(data.path()).await;
    let mut bytes = std::fs::read(&file).unwrap();
    let at = bytes
        .windows(MARKER.len())
        .position(|window| window == MARKER.as_bytes())
        .expect("the value is in the file");
    bytes[at + MARKER.len() / 2] ^= 0x01;
    std::fs::write(&file, bytes).unwrap();
    assert_refused(data.path(), "a flipped byte in a value");
}

/// The compile cache entry of the component `version` (its SHA-256).
fn entry(cache_dir: &Path, version: &str) -> PathBuf {
    std::fs::read_dir(cache_dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .find(|path| {
            let name = path.file_name().unwrap().to_str().unwrap();
            name.starts_with(version) && name.ends_with(".cwasm")
        })
        .unwrap_or_else(|| panic!("no compile cache entry for {version}"))
}

/// The `$default` route's version, and the other routes' versions.
async fn versions(gateway: &wsgate_tests::Gateway) -> (String, Vec<String>) {
    let routes = gateway.api("GET", "/@routes", b"").await.json();
    let mut default = None;
    let mut others = Vec::new();
    for route in routes["routes"].as_array().unwrap() {
        let version = route["version"].as_str().unwrap().to_owned();
        match route["routeKey"].as_str().unwrap() {
            "$default" => default = Some(version),
            _ => others.push(version),
        }
    }
    (default.expect("a $default route"), others)
}

fn echo_and_probe(cache_dir: &Path) -> GatewayBuilder {
    GatewayBuilder::new()
        .component("$default.wasm", "wsgate-echo")
        .component("whoami.wasm", "probe")
        .args(&["--cache-dir", cache_dir.to_str().unwrap()])
}

/// Starts with a damaged echo entry: a warning names the file, and the route
/// answers as echo.
async fn recompiled_as_echo(cache_dir: &Path, damaged: &Path, reason: &str, echo: &str) {
    let gateway = echo_and_probe(cache_dir).start();
    gateway
        .wait_for_line(&[
            &format!("compile cache entry {} is unusable", damaged.display()),
            reason,
        ])
        .await;
    assert_eq!(versions(&gateway).await.0, echo);
    let mut client = gateway.connect("/").await;
    client.send_text("who answers?").await;
    assert_eq!(client.recv_text().await, "who answers?");
}

/// The offset and size of the `.text` section of the ELF image in `bytes`.
fn text_section(bytes: &[u8]) -> (usize, usize) {
    let elf = bytes
        .windows(4)
        .position(|window| window == b"\x7fELF")
        .expect("a compiled artifact is an ELF image");
    let image = &bytes[elf..];
    let u16_at = |at: usize| u16::from_le_bytes(image[at..at + 2].try_into().unwrap()) as usize;
    let u32_at = |at: usize| u32::from_le_bytes(image[at..at + 4].try_into().unwrap()) as usize;
    let u64_at = |at: usize| u64::from_le_bytes(image[at..at + 8].try_into().unwrap()) as usize;
    let (sections, size, count) = (u64_at(0x28), u16_at(0x3a), u16_at(0x3c));
    let names = u64_at(sections + u16_at(0x3e) * size + 0x18);
    (0..count)
        .map(|index| sections + index * size)
        .find(|header| {
            let name = &image[names + u32_at(*header)..];
            name.starts_with(b".text\0")
        })
        .map(|header| (elf + u64_at(header + 0x18), u64_at(header + 0x20)))
        .expect("a .text section")
}

#[tokio::test]
async fn a_cache_entry_with_overwritten_machine_code_is_recompiled() {
    let cache = tempfile::tempdir().unwrap();
    let echo = {
        let gateway = echo_and_probe(cache.path()).start();
        versions(&gateway).await.0
    };
    let damaged = entry(cache.path(), &echo);
    let mut bytes = std::fs::read(&damaged).unwrap();
    let (text, size) = text_section(&bytes);
    bytes[text..text + size].fill(0);
    std::fs::write(&damaged, bytes).unwrap();

    recompiled_as_echo(cache.path(), &damaged, "checksum does not match", &echo).await;
}

#[tokio::test]
async fn another_components_artifact_under_echos_name_is_recompiled() {
    let cache = tempfile::tempdir().unwrap();
    let (echo, probe) = {
        let gateway = echo_and_probe(cache.path()).start();
        versions(&gateway).await
    };
    let echo_entry = entry(cache.path(), &echo);
    std::fs::copy(entry(cache.path(), &probe[0]), &echo_entry).unwrap();

    recompiled_as_echo(
        cache.path(),
        &echo_entry,
        "compiled from another component",
        &echo,
    )
    .await;
}
