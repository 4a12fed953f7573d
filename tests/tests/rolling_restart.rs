//! The seed deployment, end to end: two gateway replicas and Redis behind
//! nginx configured like an Ingress, clients connected through it, a steady
//! stream of API and group sends, and a rolling restart (SIGTERM replica 1,
//! start it again, then replica 2). Clients on the reliable subprotocol
//! receive every message once and in order, keep their connection ids, and
//! each gets one `$disconnect`, at the very end. Plain clients beside them
//! show what the same restart costs without it: their connection ends, and
//! what is sent to them from then on is answered 410 and lost.

use std::collections::HashMap;
use std::net::{SocketAddr, TcpListener};
use std::time::Duration;

use tokio::time::Interval;

use wsgate_tests::nginx::Nginx;
use wsgate_tests::redis::Redis;
use wsgate_tests::reliable::{Frame, ReliableClient};
use wsgate_tests::{Client, Gateway, WAIT, eventually, eventually_owned};

const RELIABLE_CLIENTS: usize = 6;
const PLAIN_CLIENTS: usize = 2;

/// Sends between two steps of the restart.
const ROUNDS: usize = 5;

/// How often a round of sends starts: a steady stream, not a flood (what
/// a parked session is sent must fit its replay buffer until it resumes).
const ROUND_EVERY: Duration = Duration::from_millis(20);

/// A replica's fixed addresses, kept across its restarts.
struct Replica {
    name: &'static str,
    listen: SocketAddr,
    api: SocketAddr,
}

fn free_addr() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
}

impl Replica {
    fn new(name: &'static str) -> Self {
        Replica {
            name,
            listen: free_addr(),
            api: free_addr(),
        }
    }

    /// Starts the replica (again) and waits until it joined the cluster.
    async fn start(&self, redis: &Redis) -> Gateway {
        let gateway = wsgate_tests::cluster::node(&redis.url(), self.name, "3s")
            .listen(&self.listen.to_string())
            .api_listen(&self.api.to_string())
            .args(&["--resume-window", "1m"])
            .start();
        gateway.wait_for_log("node registered").await;
        gateway
    }
}

/// What the test sent, per reliable client, in order.
type Sent = HashMap<String, Vec<String>>;

/// Reads a reliable client's messages until `end`, resuming through the
/// proxy whenever its socket ends (the connection id must stay the same);
/// answers what it received and how many times it resumed.
async fn follow(mut client: ReliableClient, proxy: String) -> (Vec<String>, usize) {
    let id = client.connection_id.clone();
    let (mut received, mut resumes) = (Vec::new(), 0);
    loop {
        match client.next().await {
            Some(Frame::Text(text)) if text == "end" => return (received, resumes),
            Some(Frame::Text(text)) => {
                received.push(text);
                if received.len() % 4 == 0 {
                    let ack = format!(r#"{{"type":"ack","seq":{}}}"#, client.last_seq());
                    client.client.try_send_text(&ack).await;
                }
            }
            Some(other) => panic!("{id}: unexpected {other:?}"),
            None => {
                let (token, last_seq) = (client.token.clone(), client.last_seq());
                let resume = || {
                    let (proxy, token) = (proxy.clone(), token.clone());
                    async move { ReliableClient::try_resume(&proxy, &token, last_seq).await }
                };
                client = eventually_owned(&format!("{id} resumes"), WAIT, resume).await;
                assert!(client.resumed, "{id} was not resumed");
                assert_eq!(client.connection_id, id);
                resumes += 1;
            }
        }
    }
}

/// Counts a plain client's messages until its connection ends.
async fn count_until_closed(mut client: Client) -> usize {
    let mut received = 0;
    while client.next_message().await.is_some() {
        received += 1;
    }
    received
}

/// Posts `body` to `path` on `api` until it is done (200); 503 means it was
/// not, and may be retried. Answers the final status.
async fn post(api: &Gateway, path: &str, body: &str) -> u16 {
    eventually(&format!("POST {path}"), WAIT, async || {
        match api.api("POST", path, body.as_bytes()).await.status {
            503 => Err(503),
            status => Ok(status),
        }
    })
    .await
}

/// The test's sends, paced.
struct Sender {
    pace: Interval,
    next: usize,
    sent: Sent,
    plain: Vec<String>,
    /// Sends to plain clients answered 410.
    gone: usize,
}

impl Sender {
    /// `rounds` rounds through `api`.
    async fn rounds(&mut self, api: &Gateway, rounds: usize) {
        for _ in 0..rounds {
            self.round(api).await;
        }
    }

    /// SIGTERMs `stopping` and sends rounds through `api` until it has exited.
    async fn while_stopping(&mut self, stopping: &mut Gateway, api: &Gateway) {
        stopping.signal(libc::SIGTERM);
        let deadline = tokio::time::Instant::now() + WAIT;
        while !stopping.has_exited() {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the replica did not stop"
            );
            self.round(api).await;
        }
    }

    /// One round of sends through `api`: a message to each reliable client,
    /// one to the group they are all in, and one to each plain client.
    async fn round(&mut self, api: &Gateway) {
        self.pace.tick().await;
        let n = self.next;
        self.next += 1;
        self.gone += round(api, n, &mut self.sent, &self.plain).await;
    }
}

/// Round `n` of sends through `api`; answers how many of the plain clients
/// were gone.
async fn round(api: &Gateway, n: usize, sent: &mut Sent, plain: &[String]) -> usize {
    let ids: Vec<String> = sent.keys().cloned().collect();
    for id in &ids {
        let body = format!("{n} to {id}");
        let status = post(api, &format!("/@connections/{id}"), &body).await;
        assert_eq!(status, 200, "{body}");
        sent.get_mut(id).unwrap().push(body);
    }
    let body = format!("{n} to all");
    assert_eq!(post(api, "/@groups/reliable", &body).await, 200);
    for messages in sent.values_mut() {
        messages.push(body.clone());
    }
    let mut gone = 0;
    for id in plain {
        match post(api, &format!("/@connections/{id}"), "to a plain client").await {
            200 => {}
            410 => gone += 1,
            status => panic!("{status} for a plain client"),
        }
    }
    gone
}

#[tokio::test]
async fn a_rolling_restart_behind_nginx_loses_nothing_on_the_reliable_subprotocol() {
    let redis = Redis::start();
    let (one, two) = (Replica::new("replica-1"), Replica::new("replica-2"));
    let mut r1 = one.start(&redis).await;
    let mut r2 = two.start(&redis).await;
    let nginx = Nginx::start(&[one.listen, two.listen]);
    let health = wsgate_tests::http_get(nginx.addr(), "/health").await;
    assert!(
        health.starts_with("HTTP/1.1 200"),
        "the probe reaches a replica: {health}"
    );

    let mut sent = Sent::new();
    let (mut ids, mut followers) = (Vec::new(), Vec::new());
    for _ in 0..RELIABLE_CLIENTS {
        let client = ReliableClient::connect(&nginx.url("/?room=reliable")).await;
        sent.insert(client.connection_id.clone(), Vec::new());
        ids.push(client.connection_id.clone());
        followers.push(tokio::spawn(follow(client, nginx.url("/"))));
    }
    let mut plain_ids = Vec::new();
    let mut plain = Vec::new();
    for _ in 0..PLAIN_CLIENTS {
        let mut client = Client::connect(&nginx.url("/")).await;
        plain_ids.push(client.whoami_id().await);
        plain.push(tokio::spawn(count_until_closed(client)));
    }
    let mut sender = Sender {
        pace: tokio::time::interval(ROUND_EVERY),
        next: 0,
        sent,
        plain: plain_ids.clone(),
        gone: 0,
    };

    sender.rounds(&r2, ROUNDS).await;
    sender.while_stopping(&mut r1, &r2).await;
    let mut old = vec![r1];
    let r1 = one.start(&redis).await;
    sender.rounds(&r1, ROUNDS).await;
    sender.while_stopping(&mut r2, &r1).await;
    old.push(r2);
    let r2 = two.start(&redis).await;
    sender.rounds(&r2, ROUNDS).await;
    for id in &ids {
        assert_eq!(post(&r1, &format!("/@connections/{id}"), "end").await, 200);
    }
    let (n, sent, gone) = (sender.next, sender.sent, sender.gone);

    let mut resumes = 0;
    for (follower, id) in followers.into_iter().zip(&ids) {
        let (received, resumed) = follower.await.expect("a follower");
        let expected = &sent[id];
        let first_difference = received.iter().zip(expected).position(|(r, e)| r != e);
        assert!(
            received == *expected,
            "{id} received {} of {} messages; the first that differs: {first_difference:?}",
            received.len(),
            expected.len()
        );
        resumes += resumed;
    }
    assert!(
        resumes >= RELIABLE_CLIENTS,
        "every client resumed at least once: {resumes}"
    );
    for (counted, id) in plain.into_iter().zip(&plain_ids) {
        let received = counted.await.expect("a plain client");
        assert!(
            received < n,
            "{id} lost what was sent after its replica stopped"
        );
    }
    assert!(
        gone > 0,
        "sends to plain clients after the restart were refused with 410"
    );

    // Every reliable connection is still the one it was, and ends once.
    let disconnects = |gateways: &[&Gateway], id: &str| -> usize {
        let line = format!("probe $disconnect {id}");
        gateways
            .iter()
            .map(|g| g.logs().matches(&line).count())
            .sum()
    };
    for id in &ids {
        let closed = r1.api("DELETE", &format!("/@connections/{id}"), b"").await;
        assert_eq!(closed.status, 204, "{id}: {}", closed.text());
    }
    for id in &ids {
        let all = [&old[0], &old[1], &r1, &r2];
        eventually(
            &format!("{id}'s $disconnect"),
            WAIT,
            async || match disconnects(&all, id) {
                1 => Ok(()),
                count => Err(count),
            },
        )
        .await;
    }
}
