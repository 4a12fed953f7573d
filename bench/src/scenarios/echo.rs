//! Scenario 1: echo through a WASM `$default` route (the `echo` plugin) vs the
//! baseline echo server, ping-pong and pipelined, small and large messages.

use super::{Bench, Contender, Spread, compare, size, throughput, verdict};
use crate::client::Target;
use crate::load::{Pace, Shape};
use crate::server::{Config, PluginsDir, Server};

/// The echo throughput target, as a fraction of the baseline's.
pub const TARGET_RATIO: f64 = 0.9;

/// Runs every case against one gateway and one baseline.
pub async fn run(bench: &Bench) -> anyhow::Result<()> {
    let plugins = PluginsDir::new()?;
    plugins.add(&bench.artifacts, "$default.wasm", "wsgate-echo")?;
    let gateway = Server::gateway(&bench.artifacts, plugins.path(), Config::NoLogNoLimit)?;
    let baseline = bench.baseline()?;

    let connection_counts = bench.pick(vec![100, 1000], vec![10]);
    let sizes = bench.pick(vec![64, 16 * 1024], vec![64]);
    for &connections in &connection_counts {
        for depth in [1, bench.depth] {
            for &bytes in &sizes {
                let shape = Shape {
                    size: bytes,
                    route: None,
                };
                let contenders = [
                    Contender {
                        target: Target::root(baseline.addr),
                        shape: shape.clone(),
                        pid: baseline.pid(),
                    },
                    Contender {
                        target: Target::root(gateway.addr),
                        shape,
                        pid: gateway.pid(),
                    },
                ];
                let measured = compare(bench, connections, Pace::Depth(depth), &contenders).await?;
                let (base, wasm) = (&measured[0], &measured[1]);
                let ratio = Spread::of_ratios(&wasm.rates, &base.rates);
                let cpu_ratio = Spread::of_ratios(&base.cpu_per_reply, &wasm.cpu_per_reply);
                println!(
                    "echo conns={connections} depth={depth} size={} | {} | {} | ratio {} cpu ratio {} {}",
                    size(bytes),
                    throughput("baseline", base),
                    throughput("gateway", wasm),
                    ratio.show(2),
                    cpu_ratio.show(2),
                    verdict(&format!("≥ {TARGET_RATIO}"), ratio.median >= TARGET_RATIO),
                );
            }
        }
    }
    Ok(())
}
