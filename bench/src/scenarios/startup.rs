//! Scenario 6: time from starting the gateway process to its "listening" log
//! line with 10 plugins, each compiled at start-up (cold: there is no compile
//! cache yet). A warm-cache start and the hot-swap latency need issue 4 (the
//! compile cache and hot swap); each is then one more [`Start`] to time.

use std::time::Duration;

use super::{Bench, Spread};
use crate::latency::Short;
use crate::server::{PluginsDir, Server};

/// Target start-up time with a warm compile cache.
const TARGET_WARM: Duration = Duration::from_millis(300);

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

/// A kind of start-up to time.
#[derive(Clone, Copy, Debug)]
enum Start {
    /// Every component compiled from scratch.
    Cold,
}

impl Start {
    fn label(self) -> &'static str {
        match self {
            Start::Cold => "cold",
        }
    }
}

/// Times each kind of start-up.
pub async fn run(bench: &Bench) -> anyhow::Result<()> {
    let count = bench.pick(PLUGINS.len(), 2);
    let runs = bench.pick(5, 1);
    let plugins = PluginsDir::new()?;
    for (file, crate_name) in &PLUGINS[..count] {
        plugins.add(&bench.artifacts, file, crate_name)?;
    }
    for start in [Start::Cold] {
        let mut times = Vec::new();
        for _ in 0..runs {
            let artifacts = bench.artifacts.clone();
            let dir = plugins.path().to_owned();
            let server =
                tokio::task::spawn_blocking(move || Server::gateway(&artifacts, &dir)).await??;
            times.push(server.ready_after.as_secs_f64() * 1000.0);
        }
        let spread = Spread::of(&times);
        println!(
            "startup plugins={count} {}: {} ms to ready over {runs} runs (median (min–max))",
            start.label(),
            spread.show(0),
        );
    }
    println!(
        "startup plugins={count} warm compile cache: not measured, the gateway has no compile cache yet (issue 4) [target ≤ {}]",
        Short(TARGET_WARM)
    );
    println!("hot swap latency: not measured, hot swap has not landed yet (issue 4)");
    Ok(())
}
