//! The load generator: many connections, each sending stamped messages either
//! as fast as the replies come back with a fixed number in flight (closed
//! loop, `depth`), or at a fixed rate regardless of replies (open loop).
//!
//! Every message carries its send time, so a reply (an echo of the message)
//! tells its own round-trip latency without any bookkeeping. At a fixed rate
//! the stamp is the time the message was *due*, so a stalled server shows up
//! in the latencies instead of silently slowing the load down.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use tokio::task::JoinSet;
use tokio_tungstenite::tungstenite::Message;

use crate::client::{self, Target, Ws};
use crate::{latency, reliable};

/// Connections opened from one source address.
const PER_SOURCE: usize = 10_000;

/// How long replies are awaited after the load stops.
const DRAIN: Duration = Duration::from_secs(5);

/// The messages a load sends.
#[derive(Clone, Debug)]
pub struct Shape {
    /// The size of every message, in bytes.
    pub size: usize,
    /// A route key: the messages are then JSON objects whose `action` names
    /// it (the default route selection expression); plain text otherwise.
    pub route: Option<String>,
}

/// How hard to push.
#[derive(Clone, Copy, Debug)]
pub enum Pace {
    /// Closed loop: this many messages in flight on every connection
    /// (1 = ping-pong).
    Depth(usize),
    /// Open loop: this many messages per second, in total, spread over the
    /// connections.
    Rate(f64),
}

/// One load run.
#[derive(Clone, Debug)]
pub struct LoadSpec {
    /// How many connections.
    pub connections: usize,
    /// How hard each connection pushes.
    pub pace: Pace,
    /// The messages.
    pub shape: Shape,
    /// Load before measuring starts.
    pub warmup: Duration,
    /// How long the measurement lasts.
    pub duration: Duration,
}

/// What a load run measured.
#[derive(Debug)]
pub struct LoadReport {
    /// Replies that arrived during the measurement window.
    pub received: u64,
    /// Replies that arrived at all, warm-up and drain included.
    pub replies: u64,
    /// The measurement window.
    pub window: Duration,
    /// Round-trip latencies of the messages sent during the window (ns).
    pub latencies: Histogram<u64>,
    /// Messages sent at a fixed rate that never got a reply.
    pub lost: u64,
}

impl LoadReport {
    /// Replies per second during the window.
    pub fn rate(&self) -> f64 {
        self.received as f64 / self.window.as_secs_f64()
    }
}

/// Opens the connections, runs the load and collects the latencies.
pub async fn run(target: &Target, spec: &LoadSpec) -> anyhow::Result<LoadReport> {
    if spec.connections == 0 {
        bail!("a load needs at least one connection");
    }
    let mut connections = Vec::with_capacity(spec.connections);
    let mut left = spec.connections;
    while left > 0 {
        let batch = left.min(PER_SOURCE);
        connections.extend(client::connect_many(target, client::next_source(), batch).await?);
        left -= batch;
    }

    let body = Arc::new(Body::new(&spec.shape));
    let start = Instant::now();
    let clock = Clock {
        epoch: start,
        measure_from: start + spec.warmup,
        stop_at: start + spec.warmup + spec.duration,
    };
    let mut tasks = JoinSet::new();
    for (index, ws) in connections.into_iter().enumerate() {
        let body = Arc::clone(&body);
        let pace = match spec.pace {
            Pace::Depth(depth) => Pace::Depth(depth.max(1)),
            Pace::Rate(rate) => Pace::Rate(rate / spec.connections as f64),
        };
        // At a fixed rate, connection i sends first at i / rate, so the
        // sends are spread evenly instead of arriving in bursts.
        let offset = match spec.pace {
            Pace::Depth(_) => Duration::ZERO,
            Pace::Rate(rate) => Duration::from_secs_f64(index as f64 / rate.max(1e-3)),
        };
        let reader = Reader::new(target.reliable);
        tasks.spawn(drive(ws, reader, body, clock, pace, offset));
    }

    let mut report = LoadReport {
        received: 0,
        replies: 0,
        window: spec.duration,
        latencies: latency::histogram(),
        lost: 0,
    };
    while let Some(joined) = tasks.join_next().await {
        let samples = joined.context("a load connection panicked")??;
        report.received += samples.received;
        report.replies += samples.replies;
        report.lost += samples.lost;
        for nanos in samples.latencies {
            report.latencies.saturating_record(nanos.max(1));
        }
    }
    Ok(report)
}

/// The load's timeline, shared by all connections.
#[derive(Clone, Copy, Debug)]
struct Clock {
    epoch: Instant,
    measure_from: Instant,
    stop_at: Instant,
}

impl Clock {
    fn stamp(&self, at: Instant) -> u64 {
        u64::try_from(at.duration_since(self.epoch).as_nanos()).unwrap_or(u64::MAX)
    }
}

/// What one connection measured.
#[derive(Debug, Default)]
struct Samples {
    received: u64,
    replies: u64,
    lost: u64,
    latencies: Vec<u64>,
}

impl Samples {
    /// Accounts for a reply that arrived at `now`.
    fn observe(&mut self, clock: &Clock, body: &Body, text: &str, now: Instant) {
        let Some(sent) = body.stamp_of(text) else {
            return;
        };
        let sent_at = clock.epoch + Duration::from_nanos(sent);
        self.replies += 1;
        if now >= clock.measure_from && now < clock.stop_at {
            self.received += 1;
        }
        if sent_at >= clock.measure_from && sent_at < clock.stop_at {
            let latency = now.saturating_duration_since(sent_at);
            self.latencies
                .push(u64::try_from(latency.as_nanos()).unwrap_or(u64::MAX));
        }
    }
}

/// Runs one connection's share of the load, then closes it; at a fixed rate,
/// the first message is due `offset` after the start.
async fn drive(
    ws: Ws,
    mut reader: Reader,
    body: Arc<Body>,
    clock: Clock,
    pace: Pace,
    offset: Duration,
) -> anyhow::Result<Samples> {
    let (mut sink, stream) = ws.split();
    reader.stream = Some(stream);
    let samples = match pace {
        Pace::Depth(depth) => closed_loop(&mut sink, &mut reader, &body, &clock, depth).await?,
        Pace::Rate(rate) => {
            let first = clock.epoch + offset;
            open_loop(&mut sink, &mut reader, &body, &clock, rate, first).await?
        }
    };
    let _ = sink.close().await;
    Ok(samples)
}

type Sink = SplitSink<Ws, Message>;
type Stream = SplitStream<Ws>;

/// Keeps `depth` messages in flight until the clock stops, then drains.
async fn closed_loop(
    sink: &mut Sink,
    reader: &mut Reader,
    body: &Body,
    clock: &Clock,
    depth: usize,
) -> anyhow::Result<Samples> {
    let mut samples = Samples::default();
    for _ in 0..depth {
        sink.feed(body.stamped(clock.stamp(Instant::now()))).await?;
    }
    sink.flush().await?;
    let mut in_flight = depth;
    while in_flight > 0 {
        let text = reader
            .next_text(clock.stop_at + DRAIN)
            .await?
            .context("the server closed the connection during the load")?;
        let now = Instant::now();
        samples.observe(clock, body, &text, now);
        in_flight -= 1;
        if let Some(ack) = reader.ack() {
            sink.feed(ack).await?;
        }
        if now < clock.stop_at {
            sink.send(body.stamped(clock.stamp(now))).await?;
            in_flight += 1;
        }
    }
    Ok(samples)
}

/// Sends at `rate` messages per second from `first` until the clock stops
/// while reading replies; whatever has not come back when the drain ends is
/// lost.
async fn open_loop(
    sink: &mut Sink,
    reader: &mut Reader,
    body: &Body,
    clock: &Clock,
    rate: f64,
    first: Instant,
) -> anyhow::Result<Samples> {
    let period = Duration::from_secs_f64(1.0 / rate.max(1e-3));
    let mut ticks = tokio::time::interval_at(first.into(), period);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut samples = Samples::default();
    let mut sent = 0u64;
    let mut received = 0u64;
    let mut sending = true;
    while sending || received < sent {
        tokio::select! {
            due = ticks.tick(), if sending => {
                let due = due.into_std();
                if due >= clock.stop_at {
                    sending = false;
                    continue;
                }
                sink.send(body.stamped(clock.stamp(due))).await?;
                sent += 1;
            }
            _ = tokio::time::sleep_until((clock.stop_at + DRAIN).into()) => break,
            text = reader.next_text(clock.stop_at + 2 * DRAIN) => {
                let Some(text) = text? else { break };
                samples.observe(clock, body, &text, Instant::now());
                received += 1;
                if let Some(ack) = reader.ack() {
                    sink.send(ack).await?;
                }
            }
        }
    }
    samples.lost = sent.saturating_sub(received);
    Ok(samples)
}

/// One connection's read side: the replies, unwrapped on the reliable
/// subprotocol.
struct Reader {
    stream: Option<Stream>,
    reliable: Option<reliable::Receiver>,
}

impl Reader {
    fn new(reliable: bool) -> Self {
        Reader {
            stream: None,
            reliable: reliable.then(reliable::Receiver::default),
        }
    }

    /// The next reply's text before `deadline` (other frames are skipped);
    /// none if the connection ended; an error if the deadline passes.
    async fn next_text(&mut self, deadline: Instant) -> anyhow::Result<Option<String>> {
        let stream = self.stream.as_mut().expect("a reader reads its stream");
        loop {
            let frame = tokio::time::timeout_at(deadline.into(), stream.next())
                .await
                .context("a reply did not arrive in time")?;
            let text = match frame {
                None => return Ok(None),
                Some(Err(error)) => return Err(error.into()),
                Some(Ok(Message::Text(text))) => text,
                Some(Ok(_)) => continue,
            };
            match &mut self.reliable {
                None => return Ok(Some(text.as_str().to_owned())),
                Some(receiver) => match receiver.unwrap(&text) {
                    Some(data) => return Ok(Some(data.to_owned())),
                    None => continue,
                },
            }
        }
    }

    /// The acknowledgement due now, on the reliable subprotocol.
    fn ack(&mut self) -> Option<Message> {
        self.reliable.as_mut()?.ack()
    }
}

/// A message body with room for a send-time stamp.
#[derive(Debug)]
struct Body {
    prefix: String,
    suffix: String,
}

/// Hex digits of a stamp.
const STAMP: usize = 16;

impl Body {
    fn new(shape: &Shape) -> Self {
        match &shape.route {
            None => Body {
                prefix: String::new(),
                suffix: "x".repeat(shape.size.saturating_sub(STAMP)),
            },
            Some(route) => {
                let prefix = format!(r#"{{"action":"{route}","t":""#);
                let fixed = prefix.len() + STAMP + r#"","pad":""}"#.len();
                let pad = "x".repeat(shape.size.saturating_sub(fixed));
                Body {
                    prefix,
                    suffix: format!(r#"","pad":"{pad}"}}"#),
                }
            }
        }
    }

    fn stamped(&self, stamp: u64) -> Message {
        Message::text(format!("{}{stamp:016x}{}", self.prefix, self.suffix))
    }

    fn stamp_of(&self, text: &str) -> Option<u64> {
        let digits = text.get(self.prefix.len()..self.prefix.len() + STAMP)?;
        u64::from_str_radix(digits, 16).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_have_the_requested_size_and_carry_their_stamp() {
        for route in [None, Some("echo".to_owned())] {
            let body = Body::new(&Shape {
                size: 64,
                route: route.clone(),
            });
            let Message::Text(text) = body.stamped(0xabc) else {
                panic!("a text message")
            };
            assert_eq!(text.len(), 64, "{text}");
            assert_eq!(body.stamp_of(&text), Some(0xabc));
            if let Some(route) = route {
                assert!(text.starts_with(&format!(r#"{{"action":"{route}""#)));
            }
        }
    }
}
