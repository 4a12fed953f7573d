//! A full disk under the embedded key-value store: writes fail with the OS's
//! reason, `/ready` answers 503 with it on both listeners and the log says
//! which file; once space is freed the store writes again by itself, without
//! a restart. Under the access log, a full disk loses the lines that do not
//! fit, warns on the 1st, 2nd, 4th… failure in a row, and the lines written
//! once there is room again are whole. The directories are small tmpfs (the
//! tests run as root; a test is skipped, saying so, where mounting is not
//! permitted).

use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};
use wsgate_tests::{Client, GatewayBuilder, WAIT, eventually, http_get};

/// A tmpfs mounted on a temporary directory, unmounted when dropped (also
/// when the test fails).
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    /// Mounts a tmpfs of `size` (`mount -o size=…`), or none if not permitted.
    fn mount(size: &str) -> Option<Tmpfs> {
        let dir = tempfile::tempdir().unwrap();
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .status()
            .is_ok_and(|status| status.success());
        mounted.then_some(Tmpfs { dir })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

/// Fills the file system holding `dir` with one file, until it is full.
fn fill(dir: &Path) -> std::path::PathBuf {
    use std::io::Write;
    let path = dir.join("filler");
    let mut file = std::fs::File::create(&path).unwrap();
    let chunk = vec![0u8; 64 * 1024];
    while file
        .write_all(&chunk)
        .and_then(|()| file.sync_data())
        .is_ok()
    {}
    path
}

async fn set(client: &mut Client, key: &str, value: &str) -> Value {
    client
        .send_json(json!({"action": "kv", "op": "set", "bucket": "b", "key": key, "value": value}))
        .await;
    client.recv_json().await
}

async fn ready(addr: std::net::SocketAddr) -> String {
    http_get(addr, "/ready").await
}

#[tokio::test]
async fn a_full_disk_makes_the_store_unready_with_the_reason_until_space_is_freed() {
    let Some(tmpfs) = Tmpfs::mount("4m") else {
        eprintln!(
            "SKIPPED: cannot mount a tmpfs here (mount needs root); the full-disk test did not run"
        );
        return;
    };
    let data_dir = tmpfs.path().to_str().unwrap().to_owned();
    let gateway = GatewayBuilder::new()
        .component("probe.wasm", "probe")
        .config("[routes]\n\"$default\" = \"probe.wasm\"\nkv = \"probe.wasm\"\n")
        .args(&["--data-dir", &data_dir])
        .start();
    let mut client = gateway.connect("/").await;
    assert_eq!(
        set(&mut client, "before", "stored").await,
        json!({"ok": null})
    );

    let filler = fill(tmpfs.path());
    let value = "x".repeat(16 * 1024);
    let mut attempt = 0;
    let failed = eventually("a write fails on the full disk", WAIT, || {
        attempt += 1;
        let key = format!("k{attempt}");
        let (gateway, value) = (&gateway, &value);
        async move {
            match set(&mut gateway.connect("/").await, &key, value).await {
                answer if answer["error"].is_string() => Ok(answer),
                answer => Err(answer),
            }
        }
    })
    .await;
    let message = failed["message"].as_str().unwrap();
    assert!(message.contains("No space left on device"), "{failed}");
    gateway
        .wait_for_line(&[
            "the key-value store cannot write",
            &format!("{data_dir}/kv.redb"),
            "No space left on device",
        ])
        .await;
    for addr in [gateway.addr, gateway.api_addr] {
        let answer = ready(addr).await;
        assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
        assert!(
            answer.contains("kv.redb") && answer.contains("No space left on device"),
            "{answer}"
        );
    }
    let still = set(&mut client, "during", "no room").await;
    assert!(still["error"].is_string(), "{still}");

    std::fs::remove_file(filler).unwrap();
    eventually("a write succeeds again", WAIT, || {
        let gateway = &gateway;
        async move {
            match set(&mut gateway.connect("/").await, "after", "stored again").await {
                answer if answer == json!({"ok": null}) => Ok(()),
                answer => Err(answer),
            }
        }
    })
    .await;
    for addr in [gateway.addr, gateway.api_addr] {
        eventually("/ready answers 200 again", WAIT, || async move {
            match ready(addr).await {
                answer if answer.starts_with("HTTP/1.1 200") => Ok(()),
                answer => Err(answer),
            }
        })
        .await;
    }
    gateway
        .wait_for_log("the key-value store can write again")
        .await;
    client
        .send_json(
            json!({"action": "kv", "op": "getmany", "bucket": "b", "keys": ["before", "after"]}),
        )
        .await;
    assert_eq!(
        client.recv_json().await,
        json!({"ok": ["stored", "stored again"]})
    );
}

/// The values of `field=` in the log lines that contain `message`.
fn logged_values(logs: &str, message: &str, field: &str) -> Vec<u64> {
    let key = format!("{field}=");
    logs.lines()
        .filter(|line| line.contains(message))
        .filter_map(|line| {
            let value = line.split(&key).nth(1)?;
            value
                .split(|c: char| !c.is_ascii_digit())
                .next()?
                .parse()
                .ok()
        })
        .collect()
}

#[tokio::test]
async fn a_full_disk_under_the_access_log_loses_lines_warns_sparingly_and_whole_lines_resume() {
    let Some(tmpfs) = Tmpfs::mount("1m") else {
        eprintln!(
            "SKIPPED: cannot mount a tmpfs here (mount needs root); the access log full-disk test did not run"
        );
        return;
    };
    let log = tmpfs.path().join("access.log");
    let gateway = GatewayBuilder::new()
        .probe(&["whoami"])
        .args(&["--access-log", log.to_str().unwrap()])
        .start();
    let lines_of = |id: String| {
        let log = log.clone();
        move || {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            let lines: Vec<String> = text
                .lines()
                .filter(|line| line.contains(&id))
                .map(str::to_owned)
                .collect();
            (text, lines)
        }
    };
    let mut before = gateway.connect("/").await;
    let before_id = before.whoami_id().await;
    let logged = lines_of(before_id);
    eventually("the first message's line is written", WAIT, || async {
        match logged() {
            (_, lines) if lines.len() >= 2 => Ok(()),
            (text, _) => Err(text),
        }
    })
    .await;

    let filler = fill(tmpfs.path());
    const WARNING: &str = "cannot write the access log";
    // One message per look: each lands in a batch of its own, which fails.
    eventually("8 batches in a row fail", WAIT, async || {
        before.whoami_id().await;
        let logs = gateway.logs();
        match logged_values(&logs, WARNING, "failures").last() {
            Some(&failures) if failures >= 8 => Ok(()),
            _ => Err(format!("\n{logs}")),
        }
    })
    .await;
    let warned = logged_values(&gateway.logs(), WARNING, "failures");
    let expected: Vec<u64> = (0..warned.len()).map(|power| 1 << power).collect();
    assert_eq!(
        warned, expected,
        "the warning comes on the 1st, 2nd, 4th, 8th… failure in a row, not on every one"
    );
    let logs = gateway.logs();
    assert!(
        logs.lines()
            .any(|line| line.contains(WARNING) && line.contains("No space left on device")),
        "{logs}"
    );

    std::fs::remove_file(filler).unwrap();
    let mut after = gateway.connect("/").await;
    let after_id = after.whoami_id().await;
    let logged = lines_of(after_id);
    let (text, lines) = eventually(
        "the lines after the freed space are written",
        WAIT,
        || async {
            match logged() {
                (text, lines) if lines.len() >= 2 => Ok((text, lines)),
                (text, _) => Err(text),
            }
        },
    )
    .await;
    for line in &lines {
        let line: Value = serde_json::from_str(line).unwrap_or_else(|_| panic!("torn: {line}"));
        assert!(line["eventType"].is_string());
    }
    let torn = text
        .lines()
        .filter(|line| serde_json::from_str::<Value>(line).is_err())
        .count();
    assert!(
        torn <= 1,
        "only the line the full disk cut short is torn:\n{text}"
    );
    gateway
        .wait_for_log("the access log is written again")
        .await;
}
