//! Churn: many clients, each with a behaviour drawn from a seeded generator
//! (a normal close, a drop during the handshake or during `$connect` or in the
//! middle of a message, a half-open silent peer, a client that never reads
//! while it is pushed to, one closed by the API or by a handler, one over its
//! rate limit), against a gateway serving the chat example and the probe. At
//! the end the invariants of [`crate::invariants`] must hold and the
//! gateway's memory must be back where it started.
//!
//! The seed is printed, and `WSGATE_CHURN_SEED` replays it.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde_json::json;

use crate::invariants::assert_settled;
use crate::{Client, Gateway, GatewayBuilder, WAIT, eventually, upgrade_and_vanish};

/// One client's behaviour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Behaviour {
    /// Talks, then closes with 1000.
    NormalClose,
    /// Sends the upgrade request and is gone at once.
    DropDuringHandshake,
    /// Is gone while `$connect` runs (the probe's sleeps for a while).
    DropDuringConnect,
    /// Sends a message and is gone before the answer.
    DropMidMessage,
    /// Stops answering anything, pings included, until the gateway gives up.
    HalfOpenSilent,
    /// Has itself flooded and never reads: closed with 1013.
    NeverReads,
    /// Is closed through `DELETE /@connections/{id}`.
    ClosedByApi,
    /// Asks a handler to close it.
    ClosedByHandler,
    /// Sends far over its rate limit: error frames, then 1008.
    RateLimited,
}

const BEHAVIOURS: [Behaviour; 9] = [
    Behaviour::NormalClose,
    Behaviour::DropDuringHandshake,
    Behaviour::DropDuringConnect,
    Behaviour::DropMidMessage,
    Behaviour::HalfOpenSilent,
    Behaviour::NeverReads,
    Behaviour::ClosedByApi,
    Behaviour::ClosedByHandler,
    Behaviour::RateLimited,
];

/// How many clients play at once.
pub const PARALLEL: usize = 50;

/// The rooms clients join (chat rooms and probe groups alike).
pub const ROOMS: [&str; 3] = ["lobby", "red", "blue"];

/// The seed of this run: `WSGATE_CHURN_SEED`, or a fresh one.
pub fn seed() -> u64 {
    let seed = std::env::var("WSGATE_CHURN_SEED")
        .ok()
        .and_then(|seed| seed.parse().ok())
        .unwrap_or_else(rand::random);
    println!("churn seed {seed} (replay with WSGATE_CHURN_SEED={seed})");
    seed
}

/// A gateway for churn: the chat example on `$connect`, `$disconnect`,
/// `sendmessage` and `members` when `chat`, the probe everywhere else (and on
/// those routes when not); short ping and rate limits so that every behaviour
/// ends within seconds. Its access log goes to `log`.
pub fn gateway(chat: bool, log: &Path) -> Gateway {
    builder(chat, log).start()
}

/// The [`gateway`] for churn, not started yet (a cluster node adds its flags).
pub fn builder(chat: bool, log: &Path) -> GatewayBuilder {
    let (lifecycle, chat_routes) = match chat {
        true => ("chat.wasm", "chat.wasm"),
        false => ("probe.wasm", "probe.wasm"),
    };
    let config = format!(
        "[routes]\n\"$connect\" = \"{lifecycle}\"\n\"$disconnect\" = \"{lifecycle}\"\n\
         sendmessage = \"{chat_routes}\"\nmembers = \"{chat_routes}\"\n\
         whoami = \"probe.wasm\"\nflood = \"probe.wasm\"\ncloseme = \"probe.wasm\"\n\
         \"$default\" = \"probe.wasm\"\n"
    );
    GatewayBuilder::new()
        .component("probe.wasm", "probe")
        .component("chat.wasm", "chat")
        .config(&config)
        .args(&[
            "--access-log",
            log.to_str().expect("a UTF-8 path"),
            "--ping-interval",
            "300ms",
            "--ping-timeout",
            "300ms",
            "--connection-rate",
            "50",
            "--connection-burst",
            "20",
            "--rate-limit-close-after",
            "5",
        ])
}

/// Runs `clients` clients, `parallel` at a time, each with a behaviour drawn
/// from `rng` and on one of `gateways` (closed through the API of another
/// one, when that is its behaviour); returns how many of each ran.
pub async fn run(
    gateways: &[Gateway],
    rng: &mut SmallRng,
    clients: usize,
    parallel: usize,
) -> Vec<(Behaviour, usize)> {
    let plan: Vec<(Behaviour, u64)> = (0..clients)
        .map(|_| {
            let behaviour = BEHAVIOURS[rng.random_range(0..BEHAVIOURS.len())];
            (behaviour, rng.random())
        })
        .collect();
    for wave in plan.chunks(parallel) {
        let clients = wave
            .iter()
            .map(|&(behaviour, seed)| play(gateways, behaviour, SmallRng::seed_from_u64(seed)));
        futures_util::future::join_all(clients).await;
    }
    BEHAVIOURS
        .iter()
        .map(|b| (*b, plan.iter().filter(|(p, _)| p == b).count()))
        .collect()
}

/// One client's life, on a gateway drawn from `gateways`.
async fn play(gateways: &[Gateway], behaviour: Behaviour, mut rng: SmallRng) {
    let gateway = &gateways[rng.random_range(0..gateways.len())];
    let api = &gateways[rng.random_range(0..gateways.len())];
    let room = ROOMS[rng.random_range(0..ROOMS.len())];
    let path = format!("/?room={room}&name=n{}", rng.random::<u32>());
    match behaviour {
        Behaviour::DropDuringHandshake => {
            upgrade_and_vanish(gateway.addr, &path, Duration::ZERO).await
        }
        Behaviour::DropDuringConnect => {
            let path = format!("{path}&sleep=100");
            let after = Duration::from_millis(rng.random_range(0..150));
            upgrade_and_vanish(gateway.addr, &path, after).await
        }
        _ => {
            let client = gateway.connect(&path).await;
            connected(gateway, api, behaviour, client, room).await;
        }
    }
}

/// What an accepted client on `gateway` does; `api` is the gateway whose
/// management API closes it.
async fn connected(
    gateway: &Gateway,
    api: &Gateway,
    behaviour: Behaviour,
    mut client: Client,
    room: &str,
) {
    match behaviour {
        Behaviour::NormalClose => {
            id_of(&mut client).await;
            client
                .send_json(json!({"action": "sendmessage", "data": "hi", "room": room}))
                .await;
            client.close(1000, "bye").await;
        }
        Behaviour::DropMidMessage => {
            client.send_json(json!({"action": "whoami"})).await;
        }
        Behaviour::HalfOpenSilent => {
            // Not polled, the client answers no ping: the gateway closes it.
            let id = id_of(&mut client).await;
            gone(gateway, &id).await;
        }
        Behaviour::NeverReads => {
            let id = id_of(&mut client).await;
            client
                .send_json(json!({"action": "flood", "to": id, "size": 16384, "count": 10_000}))
                .await;
            gone(gateway, &id).await;
        }
        Behaviour::ClosedByApi => {
            let id = id_of(&mut client).await;
            let closed = api.api("DELETE", &format!("/@connections/{id}"), b"").await;
            assert_eq!(closed.status, 204, "{}", closed.text());
            client.recv_close().await;
        }
        Behaviour::ClosedByHandler => {
            client
                .send_json(json!({"action": "closeme", "code": 4000, "reason": "asked"}))
                .await;
            client.recv_close().await;
        }
        Behaviour::RateLimited => {
            for _ in 0..200 {
                if !client.try_send_text(r#"{"action":"whoami"}"#).await {
                    break;
                }
            }
            client.recv_close().await;
        }
        Behaviour::DropDuringHandshake | Behaviour::DropDuringConnect => {
            unreachable!("never accepted")
        }
    }
}

/// The client's connection id, asked of the probe's `whoami`; what else
/// arrives meanwhile (a chat welcome, a room's messages) is skipped.
async fn id_of(client: &mut Client) -> String {
    client.send_json(json!({"action": "whoami"})).await;
    loop {
        let text = client.recv_text().await;
        let answer: Option<serde_json::Value> = serde_json::from_str(&text).ok();
        if let Some(id) = answer.as_ref().and_then(|a| a["connectionId"].as_str()) {
            return id.to_owned();
        }
    }
}

/// Waits until the gateway answers 410 for `id`: closed by the gateway
/// while its client, not polled, neither reads nor answers pings.
async fn gone(gateway: &Gateway, id: &str) {
    let path = format!("/@connections/{id}");
    eventually(
        "the gateway closes a client that does not read",
        WAIT,
        || async {
            match gateway.api("GET", &path, b"").await.status {
                410 => Ok(()),
                status => Err(status),
            }
        },
    )
    .await;
}

/// Rounds run before memory is measured.
const WARM_UP_ROUNDS: usize = 2;

/// What the gateway's resident memory may grow by over a round without a
/// leak: the allocator keeps the high-water mark of a round whose clients
/// overlapped more than before (a busy machine): 4.6 MiB was seen on CI
/// after one warm-up round. A leak of every connection's state (tens of KiB
/// each, a few hundred connections a round) grows by more, and does so
/// round after round in a soak.
const RSS_NOISE_KIB: u64 = 2 * 1024;

/// Runs churn rounds against a gateway until `duration` has passed (at least
/// one round of `clients`), printing a progress line per round, then asserts
/// the invariants and that the gateway's memory came back within 10 % (and
/// [`RSS_NOISE_KIB`]) of where it stood after the warm-up rounds.
pub async fn churn(chat: bool, clients: usize, duration: Duration) {
    let mut rng = SmallRng::seed_from_u64(seed());
    let dir = tempfile::tempdir().expect("a temporary directory");
    let log: PathBuf = dir.path().join("access.log");
    let gateway = gateway(chat, &log);
    let gateways = std::slice::from_ref(&gateway);
    let groups: Vec<&str> = ROOMS.to_vec();

    // Warm-up rounds fill what is kept for reuse (pooled instances, buffers,
    // each worker thread's allocator arena); memory is measured from there.
    for _ in 0..WARM_UP_ROUNDS {
        run(gateways, &mut rng, clients, PARALLEL).await;
        assert_settled(&gateway, &log, &groups, !chat, WAIT).await;
    }
    let rss_start = gateway.rss_kib();

    let started = Instant::now();
    let mut round = 0;
    while round == 0 || started.elapsed() < duration {
        round += 1;
        let ran = run(gateways, &mut rng, clients, PARALLEL).await;
        let ledger = assert_settled(&gateway, &log, &groups, !chat, WAIT).await;
        println!(
            "churn round {round} ({:?} elapsed): {ran:?}; {} connections accepted so far, rss {} KiB",
            started.elapsed(),
            ledger.accepted.len(),
            gateway.rss_kib()
        );
    }
    let rss_end = gateway.rss_kib();
    assert!(
        rss_end <= rss_start + rss_start / 10 + RSS_NOISE_KIB,
        "memory did not come back: {rss_start} KiB after warm-up, {rss_end} KiB at the end"
    );
}
