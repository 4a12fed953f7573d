//! Scenario 4: resident memory per idle connection, the gateway with its
//! shipped defaults vs the lean baseline at the same read buffer, read from
//! `/proc/PID/status` before and after opening the connections (from child
//! processes: one process may hold only ~20k sockets).

use std::time::Duration;

use super::{Bench, verdict};
use crate::client::Target;
use crate::server::{Config, Holders, PluginsDir, Server};

/// Target resident memory per idle connection at ~19k connections.
const TARGET_BYTES: f64 = 8.0 * 1024.0;

/// Target memory per connection, gateway ÷ baseline.
const TARGET_RATIO: f64 = 1.0;

/// Time for the servers to finish setting the connections up.
const SETTLE: Duration = Duration::from_secs(2);
/// The same in quick mode.
const QUICK_SETTLE: Duration = Duration::from_millis(200);

/// Measures each count on fresh servers.
pub async fn run(bench: &Bench) -> anyhow::Result<()> {
    let plugins = PluginsDir::new()?;
    plugins.add(&bench.artifacts, "$default.wasm", "wsgate-echo")?;
    let counts = bench.pick(vec![10_000, 19_000], vec![200]);
    let per_process = bench.pick(10_000, 100);
    let settle = bench.pick(SETTLE, QUICK_SETTLE);
    for count in counts {
        let gateway = per_connection(
            Server::gateway(&bench.artifacts, plugins.path(), Config::Shipped)?,
            count,
            per_process,
            settle,
        )
        .await?;
        let baseline = per_connection(bench.baseline()?, count, per_process, settle).await?;
        let ratio = gateway.bytes / baseline.bytes;
        let per_connection = match count >= 19_000 {
            true => format!(
                " {}",
                verdict("≤ 8 KiB at 19k", gateway.bytes <= TARGET_BYTES)
            ),
            false => String::new(),
        };
        println!(
            "idle conns={count} | gateway defaults {gateway} | baseline {baseline} | gateway ÷ baseline {ratio:.2} {}{per_connection}",
            verdict(&format!("≤ {TARGET_RATIO:.1}"), ratio <= TARGET_RATIO),
        );
    }
    Ok(())
}

/// Memory growth per connection of one server.
struct Growth {
    bytes: f64,
    before_kib: u64,
    after_kib: u64,
}

impl std::fmt::Display for Growth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:.1} KiB/conn (RSS {:.1} → {:.1} MiB)",
            self.bytes / 1024.0,
            self.before_kib as f64 / 1024.0,
            self.after_kib as f64 / 1024.0
        )
    }
}

async fn per_connection(
    server: Server,
    count: usize,
    per_process: usize,
    settle: Duration,
) -> anyhow::Result<Growth> {
    tokio::time::sleep(settle).await;
    let before_kib = server.rss_kib()?;
    let target = Target::root(server.addr);
    let holders =
        tokio::task::spawn_blocking(move || Holders::open(&target, count, per_process)).await??;
    tokio::time::sleep(settle).await;
    let after_kib = server.rss_kib()?;
    tokio::task::spawn_blocking(move || drop(holders)).await?;
    Ok(Growth {
        bytes: after_kib.saturating_sub(before_kib) as f64 * 1024.0 / count as f64,
        before_kib,
        after_kib,
    })
}
