//! The scenarios of the benchmark issue. Each prints one result line per case,
//! with the ratio to the baseline where one applies and the target it checks.
//! Every ratio is the gateway's number ÷ the baseline's (in routing: the
//! custom route's ÷ `$default`'s), so for CPU per message, latency and memory
//! below 1 means the gateway is cheaper or faster.
//!
//! - [`echo`]: echo through a WASM `$default` route vs the baseline, with the
//!   gateway's shipped defaults and without access log and rate limit;
//! - [`routing`]: a custom route (JSON parse + lookup) vs `$default`;
//! - [`handler`]: per-event handler overhead, in process;
//! - [`idle`]: resident memory per idle connection;
//! - [`fanout`]: one message to every member of a 10k group;
//! - [`startup`]: start-up time with 10 plugins;
//! - [`cluster`]: cross-node vs same-node send latency, and connections held
//!   by three `--reuse-port` processes sharing one port;
//! - [`reliable`]: the reliable subprotocol's cost per message, and the time
//!   from a drop to the first replayed frame.

pub mod cluster;
pub mod echo;
pub mod fanout;
pub mod handler;
pub mod idle;
pub mod reliable;
pub mod routing;
pub mod startup;

use std::time::Duration;

use hdrhistogram::Histogram;

use crate::baseline::Baseline;
use crate::client::Target;
use crate::latency::{self, Summary};
use crate::load::{self, LoadSpec, Shape};
use crate::server::{self, Artifacts, Server};

/// Which scenario to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Scenario {
    /// Echo through a WASM `$default` route vs the baseline.
    Echo,
    /// A custom route vs `$default`.
    Routing,
    /// Per-event handler overhead, in process.
    Handler,
    /// Resident memory per idle connection.
    Idle,
    /// Broadcast to a 10k group.
    Fanout,
    /// Start-up time with 10 plugins.
    Startup,
    /// Cluster mode: cross-node send latency and a 3-process connection hold.
    Cluster,
    /// The reliable subprotocol: cost per message, and resume time.
    Reliable,
}

impl Scenario {
    /// Every scenario, in the order of the issue.
    pub const ALL: [Scenario; 8] = [
        Scenario::Echo,
        Scenario::Routing,
        Scenario::Handler,
        Scenario::Idle,
        Scenario::Fanout,
        Scenario::Startup,
        Scenario::Cluster,
        Scenario::Reliable,
    ];
}

/// How big a run: the parameters, or a few seconds' smoke test.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scale {
    /// The parameters of `BENCHMARKS.md`.
    Full,
    /// Tiny parameters that only show the harness works.
    Quick,
}

/// What every scenario needs.
#[derive(Clone, Debug)]
pub struct Bench {
    /// The gateway binary and the components.
    pub artifacts: Artifacts,
    /// Full or quick.
    pub scale: Scale,
    /// How many times each load is repeated (for the spread).
    pub repeat: usize,
    /// The measurement window of each load.
    pub window: Duration,
    /// Messages in flight per connection in the pipelined cases.
    pub depth: usize,
    /// The baselines' read buffer, in bytes: the gateway's unless asked.
    pub baseline_read_buffer: usize,
}

impl Bench {
    /// Runs one scenario.
    pub async fn run(&self, scenario: Scenario) -> anyhow::Result<()> {
        match scenario {
            Scenario::Echo => echo::run(self).await,
            Scenario::Routing => routing::run(self).await,
            Scenario::Handler => handler::run(self).await,
            Scenario::Idle => idle::run(self).await,
            Scenario::Fanout => fanout::run(self).await,
            Scenario::Startup => startup::run(self).await,
            Scenario::Cluster => cluster::run(self).await,
            Scenario::Reliable => reliable::run(self).await,
        }
    }

    /// `full` or `quick`, by scale.
    pub fn pick<T>(&self, full: T, quick: T) -> T {
        match self.scale {
            Scale::Full => full,
            Scale::Quick => quick,
        }
    }

    /// Starts the lean echo baseline, tuned like the gateway.
    pub fn baseline(&self) -> anyhow::Result<Server> {
        Server::baseline(Baseline::Echo, self.baseline_read_buffer)
    }

    /// Starts the broadcasting baseline, for fan-out.
    pub fn broadcasting_baseline(&self) -> anyhow::Result<Server> {
        Server::baseline(Baseline::Broadcasting, self.baseline_read_buffer)
    }

    fn warmup(&self) -> Duration {
        self.window / 5
    }
}

/// One server in a side-by-side comparison, with the messages it gets.
#[derive(Clone, Debug)]
pub struct Contender {
    /// Where to connect.
    pub target: Target,
    /// The messages to send it.
    pub shape: Shape,
    /// Its process, whose CPU time each message costs is measured.
    pub pid: u32,
}

/// What one contender measured over all repetitions.
#[derive(Debug)]
pub struct Measured {
    /// Replies per second, one per repetition.
    pub rates: Vec<f64>,
    /// The server's CPU time per reply in µs, one per repetition: the fairer
    /// comparison on a machine where other work competes for the cores.
    pub cpu_per_reply: Vec<f64>,
    /// The 99th percentile latency in µs, one per repetition, for paired
    /// ratios.
    pub p99s: Vec<f64>,
    /// Latencies of all repetitions.
    pub latencies: Histogram<u64>,
}

/// Runs the same load against each contender in turn, `repeat` times
/// (interleaved, so drift in the machine's load hits all alike).
pub async fn compare(
    bench: &Bench,
    connections: usize,
    pace: load::Pace,
    contenders: &[Contender],
) -> anyhow::Result<Vec<Measured>> {
    let mut measured: Vec<Measured> = contenders
        .iter()
        .map(|_| Measured {
            rates: Vec::new(),
            cpu_per_reply: Vec::new(),
            p99s: Vec::new(),
            latencies: latency::histogram(),
        })
        .collect();
    for _ in 0..bench.repeat.max(1) {
        for (contender, measured) in contenders.iter().zip(&mut measured) {
            let spec = LoadSpec {
                connections,
                pace,
                shape: contender.shape.clone(),
                warmup: bench.warmup(),
                duration: bench.window,
            };
            let cpu_before = server::cpu_time(contender.pid)?;
            let report = load::run(&contender.target, &spec).await?;
            let cpu = server::cpu_time(contender.pid)? - cpu_before;
            measured.rates.push(report.rate());
            measured
                .cpu_per_reply
                .push(cpu.as_secs_f64() * 1e6 / report.replies.max(1) as f64);
            let p99 = Summary::of(&report.latencies).p99;
            measured.p99s.push(p99.as_secs_f64() * 1e6);
            measured.latencies.add(&report.latencies)?;
        }
    }
    Ok(measured)
}

/// The median, minimum and maximum of some numbers.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Spread {
    /// The median (the lower middle one for an even count).
    pub median: f64,
    /// The smallest.
    pub min: f64,
    /// The largest.
    pub max: f64,
}

impl Spread {
    /// The spread of `values` (all zero when there are none).
    pub fn of(values: &[f64]) -> Self {
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        match (sorted.first(), sorted.last()) {
            (Some(&min), Some(&max)) => Spread {
                median: sorted[(sorted.len() - 1) / 2],
                min,
                max,
            },
            _ => Spread {
                median: 0.0,
                min: 0.0,
                max: 0.0,
            },
        }
    }

    /// The spread of the ratios `a[i] / b[i]` of paired runs.
    pub fn of_ratios(a: &[f64], b: &[f64]) -> Self {
        let ratios: Vec<f64> = a.iter().zip(b).map(|(a, b)| a / b).collect();
        Spread::of(&ratios)
    }

    /// `median (min–max)` with `decimals` decimals.
    pub fn show(&self, decimals: usize) -> String {
        format!(
            "{:.decimals$} ({:.decimals$}–{:.decimals$})",
            self.median, self.min, self.max
        )
    }
}

/// `name 41.2k msg/s (40.1k–42.0k) cpu 12.3µs/msg p50 … p99 … p99.9 … max …`.
pub fn throughput(name: &str, measured: &Measured) -> String {
    let rates = Spread::of(&measured.rates);
    let k = |rate: f64| format!("{:.1}k", rate / 1000.0);
    format!(
        "{name} {} msg/s ({}–{}) cpu {:.1}µs/msg {}",
        k(rates.median),
        k(rates.min),
        k(rates.max),
        Spread::of(&measured.cpu_per_reply).median,
        Summary::of(&measured.latencies)
    )
}

/// `[target …: met]` or `[target …: MISSED]`.
pub fn verdict(target: &str, met: bool) -> String {
    format!("[target {target}: {}]", if met { "met" } else { "MISSED" })
}

/// A message size for a result line: `64B`, `16KiB`.
pub fn size(bytes: usize) -> String {
    match bytes {
        b if b >= 1024 && b % 1024 == 0 => format!("{}KiB", b / 1024),
        b => format!("{b}B"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spreads_take_the_median_and_the_extremes() {
        let spread = Spread::of(&[3.0, 1.0, 2.0]);
        assert_eq!(
            spread,
            Spread {
                median: 2.0,
                min: 1.0,
                max: 3.0
            }
        );
        assert_eq!(Spread::of_ratios(&[2.0, 9.0], &[4.0, 10.0]).max, 0.9);
        assert_eq!(spread.show(1), "2.0 (1.0–3.0)");
    }
}
