//! Scenario 6: start-up and hot swap.
//!
//! - Start-up: from starting the gateway process to its "listening" log line
//!   with 10 plugins, cold (an empty compile cache: every component compiled)
//!   and warm (the cache filled by an earlier start).
//! - Hot-swap latency: from the rename of a new version of `app.wasm` (bound
//!   to `$connect`, `$default` and `sendmessage`) into the plugins directory to the first reply from that version, for a
//!   component of every guest language, put there two ways: renamed in as
//!   built (the gateway compiles it before the swap) and with `wsgate deploy`
//!   (compiled into the gateway's cache before the rename). A new version is
//!   the same component with a custom section appended: new bytes (so it is
//!   compiled, as a fresh build would be), same behaviour.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;

use super::{Bench, Spread, verdict};
use crate::client::{self, Target};
use crate::latency::Short;
use crate::server::{Config, PluginsDir, Server};

/// Target start-up time with a warm compile cache.
const TARGET_WARM: Duration = Duration::from_millis(300);

/// Target time from a rename to the first reply from the new version.
const TARGET_SWAP: Duration = Duration::from_millis(250);

/// The components of the 10-plugin directory: route file → crate.
const PLUGINS: [(&str, &str); 10] = [
    ("$connect.wasm", "probe"),
    ("$default.wasm", "wsgate-echo"),
    ("$disconnect.wasm", "probe"),
    ("sendmessage.wasm", "chat"),
    ("join.wasm", "chat"),
    ("whoami.wasm", "probe"),
    ("echo.wasm", "wsgate-echo"),
    ("info.wasm", "probe"),
    ("leave.wasm", "chat"),
    ("members.wasm", "probe"),
];

/// The components whose swap latency is measured: the smallest and the
/// largest Rust one, and the example of every other language.
const SWAPPED: [&str; 6] = [
    "wsgate-echo",
    "chat",
    "wat-echo",
    "c-echo",
    "js-chat",
    "python-calc",
];

/// The components that welcome a client in `$connect` (a message before any
/// reply), and answer `sendmessage` only to members of a room.
const JOINING: [&str; 2] = ["chat", "js-chat"];

/// The swapped component's bindings: the chats' `sendmessage` answers (the
/// room's message reaches the sender too), the others answer any message.
const BINDINGS: &str = "[routes]\n\"$connect\" = \"app.wasm\"\n\"$default\" = \"app.wasm\"\n\"sendmessage\" = \"app.wasm\"\n";

/// How a new version gets into the plugins directory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Delivery {
    /// Written under a hidden name and renamed in: the gateway compiles it.
    Rename,
    /// `wsgate deploy`: compiled into the gateway's cache, then renamed in.
    Deploy,
}

/// Times cold and warm start-ups and hot swaps.
pub async fn run(bench: &Bench) -> anyhow::Result<()> {
    let count = bench.pick(PLUGINS.len(), 2);
    let runs = bench.pick(5, 1);
    let plugins = PluginsDir::new()?;
    for (file, crate_name) in &PLUGINS[..count] {
        plugins.add(&bench.artifacts, file, crate_name)?;
    }

    let warm_cache = tempfile::tempdir()?;
    let mut cold = Vec::new();
    let mut warm = Vec::new();
    for run in 0..runs {
        let empty = tempfile::tempdir()?;
        cold.push(start(bench, plugins.path(), empty.path()).await?);
        if run == 0 {
            // Fills the warm cache.
            start(bench, plugins.path(), warm_cache.path()).await?;
        }
        warm.push(start(bench, plugins.path(), warm_cache.path()).await?);
    }
    let (cold, warm) = (Spread::of(&cold), Spread::of(&warm));
    println!(
        "startup plugins={count} cold cache: {} ms to ready over {runs} runs (median (min–max))",
        cold.show(0)
    );
    println!(
        "startup plugins={count} warm cache: {} ms to ready over {runs} runs {}",
        warm.show(0),
        verdict(
            &format!("≤ {}", Short(TARGET_WARM)),
            warm.median <= TARGET_WARM.as_secs_f64() * 1000.0
        ),
    );

    for crate_name in &SWAPPED[..bench.pick(SWAPPED.len(), 1)] {
        for delivery in [Delivery::Rename, Delivery::Deploy] {
            let mut latencies = Vec::new();
            for _ in 0..bench.pick(5, 1) {
                let latency = swap_latency(bench, crate_name, delivery).await?;
                latencies.push(latency.as_secs_f64() * 1000.0);
            }
            let size = std::fs::metadata(bench.artifacts.component(crate_name))?.len();
            let spread = Spread::of(&latencies);
            let how = match delivery {
                Delivery::Rename => "renamed in",
                Delivery::Deploy => "wsgate deploy",
            };
            // The target is the deploy's: renamed in as built, the gateway
            // compiles first.
            let target = match delivery {
                Delivery::Rename => String::new(),
                Delivery::Deploy => verdict(
                    &format!("≤ {}", Short(TARGET_SWAP)),
                    spread.max <= TARGET_SWAP.as_secs_f64() * 1000.0,
                ),
            };
            println!(
                "hot swap {crate_name} ({} KiB), {how}: {} ms from rename to the first reply from the new version {target}",
                size / 1024,
                spread.show(0),
            );
        }
    }
    Ok(())
}

/// Milliseconds from spawning the gateway to its "listening" line.
async fn start(bench: &Bench, plugins: &Path, cache: &Path) -> anyhow::Result<f64> {
    let (artifacts, plugins) = (bench.artifacts.clone(), plugins.to_owned());
    let cache = cache.to_str().unwrap_or_default().to_owned();
    let server = tokio::task::spawn_blocking(move || {
        Server::gateway_with(
            &artifacts,
            &plugins,
            Config::NoLogNoLimit,
            &["--cache-dir", &cache],
        )
    })
    .await??;
    Ok(server.ready_after.as_secs_f64() * 1000.0)
}

/// Serves `crate_name` as `app.wasm`, puts a new version over it by
/// `delivery` and times from the rename until a reply comes from the new
/// version.
async fn swap_latency(
    bench: &Bench,
    crate_name: &str,
    delivery: Delivery,
) -> anyhow::Result<Duration> {
    let plugins = PluginsDir::new()?;
    plugins.add(&bench.artifacts, "app.wasm", crate_name)?;
    plugins.config(BINDINGS)?;
    let joins = JOINING.contains(&crate_name);
    let cache = tempfile::tempdir()?;
    let (artifacts, dir) = (bench.artifacts.clone(), plugins.path().to_owned());
    let cache_dir = cache.path().to_str().unwrap_or_default().to_owned();
    let cache_dir_arg = cache_dir.clone();
    let server = tokio::task::spawn_blocking(move || {
        Server::gateway_with(
            &artifacts,
            &dir,
            Config::NoLogNoLimit,
            &["--cache-dir", &cache_dir],
        )
    })
    .await??;
    let mut client = client::connect(&Target::root(server.addr), client::next_source()).await?;
    if joins {
        client.next().await.transpose()?;
    }

    let mut version = std::fs::read(bench.artifacts.component(crate_name))?;
    append_custom_section(&mut version, b"wsgate-bench-version");
    let built = tempfile::tempdir()?;
    let hidden = built.path().join("new.wasm");
    std::fs::write(&hidden, &version)?;
    let renamed = match delivery {
        Delivery::Rename => {
            let renamed = Instant::now();
            std::fs::rename(&hidden, plugins.path().join("app.wasm"))?;
            renamed
        }
        Delivery::Deploy => {
            let deploy = std::process::Command::new(&bench.artifacts.gateway)
                .arg("deploy")
                .arg(&hidden)
                .args(["--route", "app", "--cache-dir", &cache_dir_arg])
                .arg("--plugins")
                .arg(plugins.path())
                .output()?;
            anyhow::ensure!(
                deploy.status.success(),
                "wsgate deploy failed: {}",
                String::from_utf8_lossy(&deploy.stderr)
            );
            // The rename is the deploy's last step: timing from its exit
            // counts a few hundred microseconds too many, never too few.
            Instant::now()
        }
    };
    // The log line is written after the switch: the next message goes to the
    // new version.
    let server = tokio::task::spawn_blocking(move || {
        server
            .wait_for_log("route swapped", Duration::from_secs(30))
            .map(|_| server)
    })
    .await??;
    client
        .send(Message::text(r#"{"action":"sendmessage","data":"hi"}"#))
        .await?;
    tokio::time::timeout(Duration::from_secs(10), client.next())
        .await
        .with_context(|| format!("{crate_name} did not answer after the swap"))?
        .transpose()?;
    let latency = renamed.elapsed();
    drop(server);
    Ok(latency)
}

/// Appends a custom section (ignored when running) so the bytes, and thus the
/// version, differ.
fn append_custom_section(component: &mut Vec<u8>, name: &[u8]) {
    let nonce = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_nanos())
        .unwrap_or_default()
        .to_le_bytes();
    let mut body = vec![name.len() as u8];
    body.extend_from_slice(name);
    body.extend_from_slice(&nonce);
    component.push(0); // custom section id
    component.push(body.len() as u8);
    component.extend_from_slice(&body);
}
