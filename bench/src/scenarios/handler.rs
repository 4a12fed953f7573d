//! Scenario 3: what one event costs in the plugin runtime, in process, without
//! sockets: taking a pooled instance (or instantiating one) and calling the
//! `echo` handler with a 64-byte message; and the route selection expression's
//! JSON parse for comparison; and what one access log line costs: formatted
//! from a message event's record and written to a file by the writer thread,
//! in this process's CPU time per line.

use std::sync::Arc;
use std::time::{Duration, Instant};

use wsgate::clock::now_ms;
use wsgate::connection::{Connection, ConnectionId, ConnectionLimits, Peer, event_token};
use wsgate::event::{Event, EventKind, EventType, Payload, RequestContext};
use wsgate::observability::access_log::{AccessLog, AccessLogFormat, AccessLogTarget, EventRecord};
use wsgate::registry::{LocalRegistry, Registry};
use wsgate::routing::RouteSelection;
use wsgate::runtime::{Plugin, PluginRuntime, Sandbox, Services};

use super::{Bench, verdict};
use crate::latency::{self, Summary};
use crate::server;

/// Target median cost of one event on a pooled instance.
const TARGET_P50: Duration = Duration::from_micros(5);
/// Target 99th percentile.
const TARGET_P99: Duration = Duration::from_micros(50);
/// Target CPU time per access log line, in µs.
const TARGET_LOG_LINE: f64 = 0.5;

/// Measures reuse, instantiation and route selection.
pub async fn run(bench: &Bench) -> anyhow::Result<()> {
    let calls = bench.pick(200_000, 2_000);
    let pooled = runtime(16)?.load(&bench.artifacts.component("wsgate-echo"))?;
    pooled
        .warm_up()
        .await
        .map_err(|error| anyhow::anyhow!("instantiating echo: {error:#}"))?;
    let reuse = measure(&pooled, calls).await?;
    println!(
        "handler pooled instance + call, {calls} events: {reuse} {} {}",
        verdict(&format!("p50 ≤ {TARGET_P50:?}"), reuse.p50 <= TARGET_P50),
        verdict(&format!("p99 ≤ {TARGET_P99:?}"), reuse.p99 <= TARGET_P99),
    );

    let cold_calls = calls / 20;
    let unpooled = runtime(0)?.load(&bench.artifacts.component("wsgate-echo"))?;
    let cold = measure(&unpooled, cold_calls).await?;
    println!("handler instantiate + call (no pool), {cold_calls} events: {cold}");

    let selection = RouteSelection::default();
    let text = r#"{"action":"sendmessage","data":"hello, everyone in the room"}"#;
    let mut parse = latency::histogram();
    for _ in 0..calls {
        let started = Instant::now();
        std::hint::black_box(selection.route_key(std::hint::black_box(text)));
        latency::record(&mut parse, started.elapsed());
    }
    println!(
        "handler route selection ($request.body.action), {calls} messages: {}",
        Summary::of(&parse)
    );

    let lines = bench.pick(1_000_000, 20_000);
    let (per_line, dropped) = access_log_line(lines)?;
    // A writer that falls behind drops lines, and dropped lines cost less.
    let lost = if dropped > 0 {
        format!(" ({dropped} dropped: the figure is not comparable)")
    } else {
        String::new()
    };
    println!(
        "handler access log line (JSON, to a file), {lines} lines: cpu {per_line:.2}µs/line{lost} {}",
        verdict(
            &format!("≤ {TARGET_LOG_LINE}µs, none dropped"),
            per_line <= TARGET_LOG_LINE && dropped == 0
        ),
    );
    Ok(())
}

/// This process's CPU time per line (the formatting threads' and the
/// writer's) for `lines` message events' lines written to a file, and how
/// many of them the log dropped.
fn access_log_line(lines: usize) -> anyhow::Result<(f64, u64)> {
    let dir = tempfile::tempdir()?;
    let target = AccessLogTarget::File(dir.path().join("access.log"));
    let log = AccessLog::start(&target, AccessLogFormat::Json)?;
    let peer = Peer {
        source_ip: "127.0.0.1".into(),
        user_agent: "wsgate-bench".into(),
        domain_name: "localhost".into(),
    };
    let connection = Connection::new(ConnectionId::random(), peer, &ConnectionLimits::default());
    let event = message(connection.id());
    let before = server::cpu_time(std::process::id())?;
    for _ in 0..lines {
        let mut record = EventRecord::new(&connection, &event.context);
        record.message_bytes = 64;
        record.replied = true;
        record.integration_latency = Some(Duration::from_micros(3));
        log.write(std::hint::black_box(&record));
    }
    log.flush(Duration::from_secs(60));
    let cpu = server::cpu_time(std::process::id())? - before;
    Ok((cpu.as_secs_f64() * 1e6 / lines as f64, log.dropped()))
}

/// A runtime with the gateway's default sandbox keeping `max_idle` instances.
fn runtime(max_idle: usize) -> anyhow::Result<PluginRuntime> {
    let registry: Arc<dyn Registry> = Arc::new(LocalRegistry::new(128 * 1024));
    let sandbox = Sandbox::default();
    PluginRuntime::new(sandbox, Services::registry_only(registry), max_idle, None)
}

/// Calls `plugin` `calls` times (after a tenth as many unmeasured ones).
async fn measure(plugin: &Plugin, calls: usize) -> anyhow::Result<Summary> {
    let connection = ConnectionId::random();
    let grants = Arc::default();
    let mut histogram = latency::histogram();
    for call in 0..calls + calls / 10 {
        let event = message(&connection);
        let started = Instant::now();
        plugin.handle(event, &grants).await?;
        if call >= calls / 10 {
            latency::record(&mut histogram, started.elapsed());
        }
    }
    Ok(Summary::of(&histogram))
}

/// A 64-byte text message event, as the router builds it.
fn message(connection: &ConnectionId) -> Event {
    let now = now_ms();
    Event {
        context: RequestContext {
            route_key: "$default".into(),
            event_type: EventType::Message,
            connection_id: connection.clone(),
            message_id: Some(event_token()),
            request_id: event_token(),
            connected_at: now,
            request_time: now,
            source_ip: "127.0.0.1".into(),
            user_agent: String::new(),
            domain_name: "localhost".into(),
            stage: String::new(),
            context: Vec::new(),
        },
        kind: EventKind::Message(Payload::Text("x".repeat(64))),
    }
}
