//! Scenario 5: one message to every member of a 10k group. The gateway's
//! `probe` plugin joins each connection to the group `bench` at `$connect`
//! (`?room=bench`) and sends a `roomsend` command's data to the group (without
//! access log and rate limit); the broadcasting baseline sends any
//! `broadcast:` message to every connection. Latency is from the sender's
//! send to each member's receipt.

use std::time::{Duration, Instant};

use anyhow::Context;
use futures_util::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio_tungstenite::tungstenite::Message;

use super::{Bench, verdict};
use crate::baseline::BROADCAST;
use crate::client::{self, Target};
use crate::latency::{self, Short, Summary};
use crate::server::{Config, PluginsDir, Server};

/// The group the members join.
const GROUP: &str = "bench";

/// Target time for a message to reach every member.
const TARGET: Duration = Duration::from_millis(50);

/// How long one round may take.
const ROUND_TIMEOUT: Duration = Duration::from_secs(30);

/// A server and how to address its group.
struct Fanout {
    name: &'static str,
    members: Target,
    sender: Target,
    command: fn(round: usize) -> String,
}

/// Measures the gateway and the baseline.
pub async fn run(bench: &Bench) -> anyhow::Result<()> {
    let plugins = PluginsDir::new()?;
    plugins.add(&bench.artifacts, "probe.wasm", "probe")?;
    plugins.config("[routes]\n\"$connect\" = \"probe.wasm\"\n\"roomsend\" = \"probe.wasm\"\n")?;
    let gateway = Server::gateway(&bench.artifacts, plugins.path(), Config::NoLogNoLimit)?;
    let baseline = bench.broadcasting_baseline()?;
    let members = bench.pick(10_000, 100);
    let rounds = bench.pick(10, 2);

    let mut results = Vec::new();
    for fanout in [
        Fanout {
            name: "baseline",
            members: Target::root(baseline.addr),
            sender: Target::root(baseline.addr),
            command: |round| format!("{BROADCAST}{round}"),
        },
        Fanout {
            name: "gateway",
            members: Target::new(gateway.addr, format!("/?room={GROUP}")),
            sender: Target::root(gateway.addr),
            command: |round| {
                format!(r#"{{"action":"roomsend","room":"{GROUP}","data":"{round}"}}"#)
            },
        },
    ] {
        let (deliveries, worst) = measure(&fanout, members, rounds).await?;
        results.push((fanout.name, Summary::of(&deliveries), worst));
    }
    let line: Vec<String> = results
        .iter()
        .map(|(name, summary, worst)| format!("{name} {summary} (slowest round {})", Short(*worst)))
        .collect();
    let (_, gateway_summary, gateway_worst) = results[1];
    println!(
        "fanout members={members} rounds={rounds} | {} | max ratio {:.2} {}",
        line.join(" | "),
        gateway_summary.max.as_secs_f64() / results[0].1.max.as_secs_f64(),
        verdict(&format!("all within {TARGET:?}"), gateway_worst <= TARGET),
    );
    Ok(())
}

/// Delivery latencies over all rounds, and the slowest round's last delivery.
async fn measure(
    fanout: &Fanout,
    members: usize,
    rounds: usize,
) -> anyhow::Result<(Histogram<u64>, Duration)> {
    let connections = client::connect_many(&fanout.members, client::next_source(), members).await?;
    let (arrivals, mut arrived) = mpsc::unbounded_channel();
    let mut readers = JoinSet::new();
    for ws in connections {
        let arrivals = arrivals.clone();
        readers.spawn(async move {
            let (_sink, mut stream) = ws.split();
            for _ in 0..rounds {
                loop {
                    match stream.next().await {
                        Some(Ok(Message::Text(_))) => break,
                        Some(Ok(_)) => continue,
                        _ => return,
                    }
                }
                let _ = arrivals.send(Instant::now());
            }
        });
    }
    let mut sender = client::connect(&fanout.sender, client::next_source()).await?;
    let mut deliveries = latency::histogram();
    let mut worst = Duration::ZERO;
    for round in 0..rounds {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let sent = Instant::now();
        sender.send(Message::text((fanout.command)(round))).await?;
        let mut last = Duration::ZERO;
        for _ in 0..members {
            let at = tokio::time::timeout(ROUND_TIMEOUT, arrived.recv())
                .await
                .with_context(|| {
                    format!("{}: round {round} did not reach every member", fanout.name)
                })?
                .context("the members' readers ended early")?;
            let latency = at.saturating_duration_since(sent);
            latency::record(&mut deliveries, latency);
            last = last.max(latency);
        }
        worst = worst.max(last);
    }
    readers.shutdown().await;
    Ok((deliveries, worst))
}
