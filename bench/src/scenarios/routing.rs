//! Scenario 2: a custom route picked by the route selection expression (JSON
//! parse + route lookup) vs `$default` (no parse: a gateway without custom
//! routes never parses messages), with the same JSON messages and the same
//! `echo` component, side by side with the lean baseline; both gateways
//! without access log and rate limit. The ratios are custom ÷ `$default`
//! (throughput, and CPU per message) and custom ÷ baseline (throughput).

use super::{Bench, Contender, Spread, compare, size, throughput};
use crate::client::Target;
use crate::load::{Pace, Shape};
use crate::server::{Config, PluginsDir, Server};

/// The custom route key.
const ROUTE: &str = "echo";

/// Runs the comparison at ping-pong and at the pipelined depth.
pub async fn run(bench: &Bench) -> anyhow::Result<()> {
    let default_only = PluginsDir::new()?;
    default_only.add(&bench.artifacts, "$default.wasm", "wsgate-echo")?;
    let custom_only = PluginsDir::new()?;
    custom_only.add(&bench.artifacts, &format!("{ROUTE}.wasm"), "wsgate-echo")?;
    // Without access log and rate limit, so that only the routing differs
    // from the echo scenario's log-off gateway.
    let lean = Config::NoLogNoLimit;
    let default_gateway = Server::gateway(&bench.artifacts, default_only.path(), lean)?;
    let custom_gateway = Server::gateway(&bench.artifacts, custom_only.path(), lean)?;
    let baseline = bench.baseline()?;

    let connections = bench.pick(100, 10);
    let bytes = 64;
    let shape = Shape {
        size: bytes,
        route: Some(ROUTE.to_owned()),
    };
    let contender = |server: &Server| Contender {
        target: Target::root(server.addr),
        shape: shape.clone(),
        pid: server.pid(),
    };
    let contenders = [
        contender(&baseline),
        contender(&default_gateway),
        contender(&custom_gateway),
    ];
    for depth in [1, bench.depth] {
        let measured = compare(bench, connections, Pace::Depth(depth), &contenders).await?;
        let (base, default, custom) = (&measured[0], &measured[1], &measured[2]);
        println!(
            "routing conns={connections} depth={depth} size={} | {} | {} | {} | custom/$default {} (cpu {}) | custom/baseline {}",
            size(bytes),
            throughput("baseline", base),
            throughput("$default", default),
            throughput("custom", custom),
            Spread::of_ratios(&custom.rates, &default.rates).show(2),
            Spread::of_ratios(&custom.cpu_per_reply, &default.cpu_per_reply).show(2),
            Spread::of_ratios(&custom.rates, &base.rates).show(2),
        );
    }
    Ok(())
}
