//! Scenario 8: the reliable subprotocol (`wsgate.reliable.v1`). Its cost per
//! message: 64-byte ping-pong through the `echo` plugin, on plain and on
//! reliable connections to the same gateway (shipped defaults) with the lean
//! baseline beside them, interleaved; the reliable clients acknowledge every
//! [`ACK_EVERY`] frames. And the time from a drop to the first replayed
//! frame: a client drops its TCP connection with one frame unacknowledged,
//! connects again at once with its resume token and waits for the replay.

use std::time::Instant;

use anyhow::Context;
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;

use super::{Bench, Contender, Spread, compare, size, throughput};
use crate::client::{self, Target, Ws};
use crate::latency::{self, Summary};
use crate::load::{Pace, Shape};
use crate::server::{Config, PluginsDir, Server};

/// Runs the cost comparison and the resume measurement.
pub async fn run(bench: &Bench) -> anyhow::Result<()> {
    let plugins = PluginsDir::new()?;
    plugins.add(&bench.artifacts, "$default.wasm", "wsgate-echo")?;
    let baseline = bench.baseline()?;
    let gateway = Server::gateway(&bench.artifacts, plugins.path(), Config::Shipped)?;

    let connections = bench.pick(100, 10);
    let bytes = 64;
    let shape = Shape {
        size: bytes,
        route: None,
    };
    let contender = |server: &Server, target: Target| Contender {
        target,
        shape: shape.clone(),
        pid: server.pid(),
    };
    let contenders = [
        contender(&baseline, Target::root(baseline.addr)),
        contender(&gateway, Target::root(gateway.addr)),
        contender(&gateway, Target::root(gateway.addr).reliable()),
    ];
    let measured = compare(bench, connections, Pace::Depth(1), &contenders).await?;
    let (base, plain, reliable) = (&measured[0], &measured[1], &measured[2]);
    println!(
        "reliable conns={connections} depth=1 size={} | {} | {} | {} | reliable/plain throughput {} cpu {} | reliable/baseline cpu {}",
        size(bytes),
        throughput("baseline", base),
        throughput("plain", plain),
        throughput("reliable", reliable),
        Spread::of_ratios(&reliable.rates, &plain.rates).show(2),
        Spread::of_ratios(&reliable.cpu_per_reply, &plain.cpu_per_reply).show(2),
        Spread::of_ratios(&reliable.cpu_per_reply, &base.cpu_per_reply).show(2),
    );

    let rounds = bench.pick(200, 10);
    let mut drop_to_replay = latency::histogram();
    for _ in 0..rounds {
        let took = drop_and_resume(gateway.addr).await?;
        drop_to_replay.saturating_record(took.as_nanos().max(1) as u64);
    }
    println!(
        "reliable resume rounds={rounds} | drop → first replayed frame {}",
        Summary::of(&drop_to_replay)
    );
    Ok(())
}

/// One drop and resume: how long from the drop to the first replayed frame.
async fn drop_and_resume(addr: std::net::SocketAddr) -> anyhow::Result<std::time::Duration> {
    let source = client::next_source();
    let mut ws = client::connect(&Target::root(addr).reliable(), source).await?;
    let session = next_json(&mut ws).await?;
    let token = session["resumeToken"]
        .as_str()
        .context("a session frame with a resume token")?
        .to_owned();
    ws.send(Message::text("unacknowledged")).await?;
    let reply = next_json(&mut ws).await?;
    anyhow::ensure!(reply["seq"] == 1, "the echo is frame 1: {reply}");

    let dropped = Instant::now();
    drop(ws);
    let target = Target::new(addr, format!("/?resume={token}&lastSeq=0")).reliable();
    let mut ws = client::connect(&target, source).await?;
    let session = next_json(&mut ws).await?;
    anyhow::ensure!(session["resumed"] == true, "resumed: {session}");
    let replayed = next_json(&mut ws).await?;
    let took = dropped.elapsed();
    anyhow::ensure!(
        replayed["data"] == "unacknowledged",
        "the replay: {replayed}"
    );
    ws.close(None).await?;
    Ok(took)
}

/// The next text frame, as JSON.
async fn next_json(ws: &mut Ws) -> anyhow::Result<serde_json::Value> {
    loop {
        match ws.next().await.context("the connection ended")?? {
            Message::Text(text) => return Ok(serde_json::from_str(&text)?),
            _ => continue,
        }
    }
}
