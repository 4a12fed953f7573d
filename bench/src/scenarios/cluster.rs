//! Cluster mode, with a real `redis-server`:
//!
//! - send latency through a handler (`sendto` of the probe component) from a
//!   client on node A to a client on node A (same node) and on node B (cross
//!   node: through Redis and B's inbox), one message at a time;
//! - connections held by three gateway processes sharing one port with
//!   `--reuse-port` (each under the suite's 20k open-file limit), all
//!   registered in Redis.

use std::time::{Duration, Instant};

use anyhow::Context;
use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;
use wsgate_tests::redis::Redis;

use super::Bench;
use crate::client::{self, Target, Ws};
use crate::latency::{self, Summary};
use crate::server::{Config, Holders, PluginsDir, Server};

/// How long any one reply may take.
const REPLY_TIMEOUT: Duration = Duration::from_secs(10);

/// How long the nodes may take to register every held connection in Redis.
const REGISTER_TIMEOUT: Duration = Duration::from_secs(120);

/// Runs both cases.
pub async fn run(bench: &Bench) -> anyhow::Result<()> {
    let redis = tokio::task::spawn_blocking(Redis::start).await?;
    latency(bench, &redis).await?;
    hold(bench, &redis).await
}

async fn latency(bench: &Bench, redis: &Redis) -> anyhow::Result<()> {
    let plugins = PluginsDir::new()?;
    plugins.add(&bench.artifacts, "probe.wasm", "probe")?;
    plugins.config("[routes]\n\"$default\" = \"probe.wasm\"\nwhoami = \"probe.wasm\"\nsendto = \"probe.wasm\"\n")?;
    let node = |name: &str| {
        Server::gateway_with(
            &bench.artifacts,
            plugins.path(),
            Config::NoLogNoLimit,
            &["--cluster", &redis.url(), "--node-id", name],
        )
    };
    let (a, b) = (node("a")?, node("b")?);
    let source = client::next_source();
    let mut sender = client::connect(&Target::root(a.addr), source).await?;
    let mut near = client::connect(&Target::root(a.addr), source).await?;
    let mut far = client::connect(&Target::root(b.addr), source).await?;
    let near_id = whoami(&mut near).await?;
    let far_id = whoami(&mut far).await?;
    warm_up(&mut sender, &mut far, &far_id).await?;
    let rounds = bench.pick(5_000, 100);
    let (mut same, mut cross) = (latency::histogram(), latency::histogram());
    for round in 0..rounds * 2 {
        let (to, receiver, histogram) = match round % 2 {
            0 => (&near_id, &mut near, &mut same),
            _ => (&far_id, &mut far, &mut cross),
        };
        let command = json!({"action": "sendto", "to": to, "data": round.to_string()});
        let started = Instant::now();
        sender.send(Message::text(command.to_string())).await?;
        let arrived = next_text(receiver).await?;
        latency::record(histogram, started.elapsed());
        anyhow::ensure!(arrived == round.to_string(), "got {arrived}, not {round}");
        anyhow::ensure!(next_text(&mut sender).await? == "sent", "the send failed");
    }
    println!(
        "cluster send same-node rounds={rounds} | {}",
        Summary::of(&same)
    );
    println!(
        "cluster send cross-node rounds={rounds} | {}",
        Summary::of(&cross)
    );
    Ok(())
}

async fn hold(bench: &Bench, redis: &Redis) -> anyhow::Result<()> {
    let plugins = PluginsDir::new()?;
    plugins.add(&bench.artifacts, "$default.wasm", "wsgate-echo")?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let listen = format!("127.0.0.1:{port}");
    let mut nodes = Vec::new();
    for name in ["h1", "h2", "h3"] {
        // The holders never read, so they never answer pings: without
        // pings, a slow opening does not lose its first connections to ping
        // timeouts before the count is taken.
        let flags = [
            "--reuse-port",
            "--cluster",
            &redis.url(),
            "--node-id",
            name,
            "--ping-interval",
            "0",
        ];
        nodes.push(Server::gateway_on(
            &listen,
            &bench.artifacts,
            plugins.path(),
            Config::NoLogNoLimit,
            &flags,
        )?);
    }
    let total = bench.pick(50_000, 300);
    let per_process = bench.pick(10_000, 100);
    let target = Target::root(nodes[0].addr);
    let started = Instant::now();
    let holders =
        tokio::task::spawn_blocking(move || Holders::open(&target, total, per_process)).await??;
    let opened = started.elapsed();
    let deadline = Instant::now() + REGISTER_TIMEOUT;
    let registered = loop {
        let count = tokio::task::block_in_place(|| redis.command("ZCARD wsgate:conns"));
        let count: usize = count
            .trim()
            .trim_start_matches(':')
            .parse()
            .context("ZCARD")?;
        if count >= total || Instant::now() > deadline {
            break count;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let rss: Vec<String> = nodes
        .iter()
        .map(|node| Ok(format!("{:.0}", node.rss_kib()? as f64 / 1024.0)))
        .collect::<anyhow::Result<_>>()?;
    println!(
        "cluster hold conns={total} processes=3 reuse-port | opened in {:.1} s | registered in Redis {registered} after {:.1} s | RSS per process {} MiB",
        opened.as_secs_f64(),
        started.elapsed().as_secs_f64(),
        rss.join(" / "),
    );
    tokio::task::spawn_blocking(move || drop(holders)).await?;
    Ok(())
}

/// Sends from `sender` to `far` until the cluster carries it (the nodes may
/// still be registering with Redis).
async fn warm_up(sender: &mut Ws, far: &mut Ws, far_id: &str) -> anyhow::Result<()> {
    let deadline = Instant::now() + REPLY_TIMEOUT;
    loop {
        let command = json!({"action": "sendto", "to": far_id, "data": "warm-up"});
        sender.send(Message::text(command.to_string())).await?;
        if next_text(sender).await? == "sent" {
            anyhow::ensure!(
                next_text(far).await? == "warm-up",
                "the warm-up went astray"
            );
            return Ok(());
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "the cluster never carried a send"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn whoami(ws: &mut Ws) -> anyhow::Result<String> {
    ws.send(Message::text(r#"{"action":"whoami"}"#)).await?;
    let context: serde_json::Value = serde_json::from_str(&next_text(ws).await?)?;
    context["connectionId"]
        .as_str()
        .map(str::to_owned)
        .context("whoami answers a connectionId")
}

async fn next_text(ws: &mut Ws) -> anyhow::Result<String> {
    loop {
        let next = tokio::time::timeout(REPLY_TIMEOUT, ws.next())
            .await
            .context("no reply in time")?
            .context("the connection ended")??;
        match next {
            Message::Text(text) => return Ok(text.as_str().to_owned()),
            Message::Ping(_) | Message::Pong(_) => continue,
            other => anyhow::bail!("unexpected {other:?}"),
        }
    }
}
