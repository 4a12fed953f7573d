//! `wsgate-bench`: the benchmark suite's command line. `cargo xtask bench`
//! builds everything in release mode and runs `wsgate-bench run`.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use wsgate::server::task::READ_BUFFER;
use wsgate_bench::baseline::{self, Baseline};
use wsgate_bench::client::{self, Target};
use wsgate_bench::latency::Summary;
use wsgate_bench::load::{self, LoadSpec, Pace, Shape};
use wsgate_bench::scenarios::{Bench, Scale, Scenario};
use wsgate_bench::server::{Artifacts, LISTENING};

/// The file limit every process of the benchmark asks for (the hard limit here).
const FILE_LIMIT: u64 = 20_000;

#[derive(Parser)]
#[command(about = "wsgate's benchmark suite: the gateway side by side with a no-gateway baseline")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the scenarios and print one result line per case.
    Run(RunArgs),
    /// Put load on any WebSocket echo server and print throughput and latency.
    Load(LoadArgs),
    /// Serve the no-gateway baseline: the lean echo, or with `--broadcast`
    /// the echo that also sends `broadcast:` messages to everyone.
    Baseline {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: SocketAddr,
        /// Also broadcast (the fan-out scenario's baseline).
        #[arg(long)]
        broadcast: bool,
        /// Read buffer per connection, in bytes (the gateway's by default).
        #[arg(long, default_value_t = READ_BUFFER)]
        read_buffer: usize,
    },
    /// Hold idle connections open until standard input closes (used by `run`).
    Hold {
        /// The server.
        #[arg(long)]
        addr: SocketAddr,
        /// The request path.
        #[arg(long, default_value = "/")]
        path: String,
        /// The source address to connect from (127.0.0.2, …).
        #[arg(long)]
        source: IpAddr,
        /// How many connections.
        #[arg(long)]
        connections: usize,
    },
}

#[derive(Args)]
struct RunArgs {
    /// Tiny parameters: a few seconds, only to show the harness works.
    #[arg(long)]
    quick: bool,
    /// The scenarios to run [default: all].
    #[arg(long, value_enum, value_delimiter = ',')]
    scenarios: Vec<Scenario>,
    /// How many times each load runs, for the spread [default: 3, quick 1].
    #[arg(long)]
    repeat: Option<usize>,
    /// Measurement window of each load, in seconds [default: 5, quick 0.5].
    #[arg(long)]
    seconds: Option<f64>,
    /// Messages in flight per connection in the pipelined cases.
    #[arg(long, default_value_t = 8)]
    depth: usize,
    /// The baseline's read buffer per connection, in bytes (the gateway's by
    /// default).
    #[arg(long, default_value_t = READ_BUFFER)]
    baseline_read_buffer: usize,
    /// The `wsgate` binary [default: next to this one].
    #[arg(long)]
    gateway: Option<PathBuf>,
    /// The components built by `cargo xtask plugins` [default: target/wasm32-wasip2/plugin].
    #[arg(long)]
    components: Option<PathBuf>,
}

#[derive(Args)]
struct LoadArgs {
    /// The server.
    #[arg(long)]
    addr: SocketAddr,
    /// The request path.
    #[arg(long, default_value = "/")]
    path: String,
    /// How many connections.
    #[arg(long, default_value_t = 100)]
    connections: usize,
    /// Messages in flight per connection (closed loop).
    #[arg(long, default_value_t = 1, conflicts_with = "rate")]
    depth: usize,
    /// Messages per second in total (open loop) instead of a depth.
    #[arg(long)]
    rate: Option<f64>,
    /// Message size in bytes.
    #[arg(long, default_value_t = 64)]
    size: usize,
    /// Send JSON messages with this `action` (route key) instead of plain text.
    #[arg(long)]
    route: Option<String>,
    /// Warm-up before measuring, in seconds.
    #[arg(long, default_value_t = 1.0)]
    warmup: f64,
    /// Measurement window, in seconds.
    #[arg(long, default_value_t = 5.0)]
    seconds: f64,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    rlimit::increase_nofile_limit(FILE_LIMIT)?;
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        match cli.command {
            Command::Run(args) => run(args).await,
            Command::Load(args) => load(args).await,
            Command::Baseline {
                listen,
                broadcast,
                read_buffer,
            } => {
                let listener = tokio::net::TcpListener::bind(listen).await?;
                eprintln!("{LISTENING}{}", listener.local_addr()?);
                let baseline = match broadcast {
                    true => Baseline::Broadcasting,
                    false => Baseline::Echo,
                };
                baseline::serve(listener, baseline, read_buffer).await;
                Ok(())
            }
            Command::Hold {
                addr,
                path,
                source,
                connections,
            } => client::hold(&Target::new(addr, path), source, connections).await,
        }
    })
}

async fn run(args: RunArgs) -> anyhow::Result<()> {
    let mut artifacts = Artifacts::beside_this_binary()?;
    artifacts.gateway = args.gateway.unwrap_or(artifacts.gateway);
    artifacts.components = args.components.unwrap_or(artifacts.components);
    let scale = if args.quick {
        Scale::Quick
    } else {
        Scale::Full
    };
    let bench = Bench {
        artifacts,
        scale,
        repeat: args.repeat.unwrap_or(if args.quick { 1 } else { 3 }),
        window: Duration::from_secs_f64(args.seconds.unwrap_or(if args.quick { 0.5 } else { 5.0 })),
        depth: args.depth,
        baseline_read_buffer: args.baseline_read_buffer,
    };
    let scenarios = match args.scenarios.is_empty() {
        true => Scenario::ALL.to_vec(),
        false => args.scenarios,
    };
    for scenario in scenarios {
        bench.run(scenario).await?;
    }
    Ok(())
}

async fn load(args: LoadArgs) -> anyhow::Result<()> {
    let spec = LoadSpec {
        connections: args.connections,
        pace: match args.rate {
            Some(rate) => Pace::Rate(rate),
            None => Pace::Depth(args.depth),
        },
        shape: Shape {
            size: args.size,
            route: args.route,
        },
        warmup: Duration::from_secs_f64(args.warmup),
        duration: Duration::from_secs_f64(args.seconds),
    };
    let target = Target::new(args.addr, args.path);
    let report = load::run(&target, &spec).await?;
    println!(
        "load conns={} {:?} size={} | {:.0} msg/s {} | lost {}",
        spec.connections,
        spec.pace,
        spec.shape.size,
        report.rate(),
        Summary::of(&report.latencies),
        report.lost
    );
    Ok(())
}
