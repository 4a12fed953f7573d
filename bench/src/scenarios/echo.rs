//! Scenario 1: echo through a WASM `$default` route (the `echo` plugin) vs the
//! lean baseline echo, ping-pong and pipelined, small and large messages.
//!
//! Three contenders per case, their repetitions interleaved: the baseline,
//! the gateway with its shipped defaults (the headline: access log on, rate
//! limit at its default) and the gateway without access log and rate limit.
//! For each gateway the line gives its throughput, CPU per message and p99
//! latency ÷ the baseline's, of paired runs. The targets apply to ping-pong
//! (depth 1), where one message's cost is not hidden by batching; the
//! pipelined cases print the ratios without a verdict, and leave the shipped
//! defaults out: a pipelined client sends more than the default per-connection
//! rate limit (1000 messages/s), which then throttles and closes it, as it is
//! configured to.

use super::{Bench, Contender, Measured, Spread, compare, size, throughput, verdict};
use crate::client::Target;
use crate::load::{Pace, Shape};
use crate::server::{Config, PluginsDir, Server};

/// The gateway configurations compared with the baseline, headline first.
const CONFIGS: [Config; 2] = [Config::Shipped, Config::NoLogNoLimit];

/// What a gateway configuration should reach against the baseline at
/// ping-pong, as gateway ÷ baseline ratios.
struct Targets {
    /// Throughput, at least.
    throughput: f64,
    /// Server CPU time per message, at most.
    cpu: f64,
    /// 99th percentile latency, at most.
    p99: f64,
}

impl Targets {
    /// The targets of `config` with messages of `bytes`.
    fn of(config: Config, bytes: usize) -> Self {
        match config {
            Config::Shipped => Targets {
                throughput: 0.85,
                cpu: 1.25,
                p99: 1.5,
            },
            Config::NoLogNoLimit => Targets {
                throughput: 0.95,
                // A large message's copies into and out of the guest cost more.
                cpu: if bytes >= 16 * 1024 { 1.15 } else { 1.1 },
                p99: 1.5,
            },
        }
    }
}

/// Runs every case against the baseline and one gateway per configuration.
pub async fn run(bench: &Bench) -> anyhow::Result<()> {
    let plugins = PluginsDir::new()?;
    plugins.add(&bench.artifacts, "$default.wasm", "wsgate-echo")?;
    let baseline = bench.baseline()?;
    let gateways = CONFIGS
        .iter()
        .map(|&config| Server::gateway(&bench.artifacts, plugins.path(), config))
        .collect::<anyhow::Result<Vec<_>>>()?;

    let connection_counts = bench.pick(vec![100, 1000], vec![10]);
    let sizes = bench.pick(vec![64, 16 * 1024], vec![64]);
    for &connections in &connection_counts {
        for depth in [1, bench.depth] {
            for &bytes in &sizes {
                let shape = Shape {
                    size: bytes,
                    route: None,
                };
                let configs: Vec<(Config, &Server)> = CONFIGS
                    .iter()
                    .copied()
                    .zip(&gateways)
                    .filter(|&(config, _)| depth == 1 || config != Config::Shipped)
                    .collect();
                let contenders: Vec<Contender> = std::iter::once(&baseline)
                    .chain(configs.iter().map(|&(_, server)| server))
                    .map(|server| Contender {
                        target: Target::root(server.addr),
                        shape: shape.clone(),
                        pid: server.pid(),
                    })
                    .collect();
                let measured = compare(bench, connections, Pace::Depth(depth), &contenders).await?;
                let (base, gateways) = measured.split_first().expect("the baseline's");
                let mut line = vec![
                    format!(
                        "echo conns={connections} depth={depth} size={}",
                        size(bytes)
                    ),
                    throughput("baseline", base),
                ];
                for (&(config, _), gateway) in configs.iter().zip(gateways) {
                    line.push(throughput(config.label(), gateway));
                }
                for (&(config, _), gateway) in configs.iter().zip(gateways) {
                    let targets = (depth == 1).then(|| Targets::of(config, bytes));
                    line.push(ratios(config.label(), gateway, base, targets.as_ref()));
                }
                println!("{}", line.join(" | "));
            }
        }
    }
    Ok(())
}

/// `defaults ÷ baseline: throughput 0.90 (…) [target ≥ 0.85: met] cpu … p99 …`.
fn ratios(label: &str, gateway: &Measured, base: &Measured, targets: Option<&Targets>) -> String {
    format!(
        "{label} ÷ baseline: {} {} {}",
        ratio(
            "throughput",
            Spread::of_ratios(&gateway.rates, &base.rates),
            targets.map(|t| Bound::AtLeast(t.throughput)),
        ),
        ratio(
            "cpu",
            Spread::of_ratios(&gateway.cpu_per_reply, &base.cpu_per_reply),
            targets.map(|t| Bound::AtMost(t.cpu)),
        ),
        ratio(
            "p99",
            Spread::of_ratios(&gateway.p99s, &base.p99s),
            targets.map(|t| Bound::AtMost(t.p99)),
        ),
    )
}

/// A target for a ratio's median.
enum Bound {
    AtLeast(f64),
    AtMost(f64),
}

/// `name 0.90 (0.85–0.95)`, and the verdict when the ratio has a target.
fn ratio(name: &str, spread: Spread, target: Option<Bound>) -> String {
    let checked = match target {
        Some(Bound::AtLeast(min)) => {
            format!(" {}", verdict(&format!("≥ {min}"), spread.median >= min))
        }
        Some(Bound::AtMost(max)) => {
            format!(" {}", verdict(&format!("≤ {max}"), spread.median <= max))
        }
        None => String::new(),
    };
    format!("{name} {}{checked}", spread.show(2))
}
