//! The reliable subprotocol (docs/reliable.md): a session frame, then every
//! frame numbered; a drop detaches the connection instead of ending it; a
//! resume within the window replays what the client missed, keeps the
//! connection's id, context and groups and runs no `$connect`; `$disconnect`
//! runs exactly once, at a clean close or when the connection can no longer
//! be resumed.
//!
//! The probe's `$disconnect` reports to the `observers` group, so an observer
//! sees every disconnect the gateway ran.

use std::time::Duration;

use serde_json::json;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use wsgate_tests::proxy::Proxy;
use wsgate_tests::reliable::{Frame, RELIABLE, ReliableClient};
use wsgate_tests::{Client, Gateway, GatewayBuilder, WAIT};

fn probe_gateway(args: &[&str]) -> Gateway {
    GatewayBuilder::new()
        .probe(&["$connect", "$disconnect", "$default", "whoami", "roomsend"])
        .args(args)
        .start()
}

async fn post(gateway: &Gateway, id: &str, body: &str) -> u16 {
    let path = format!("/@connections/{id}");
    gateway.api("POST", &path, body.as_bytes()).await.status
}

#[tokio::test]
async fn the_session_frame_comes_first_and_every_frame_after_it_is_numbered() {
    let gateway = probe_gateway(&[]);
    // `welcome` is sent by `$connect`, before the session frame is known.
    let mut client = ReliableClient::connect(&gateway.url("/?welcome=hi")).await;
    assert!(!client.resumed);
    let protocol = client.client.response.headers()["sec-websocket-protocol"].clone();
    assert_eq!(protocol, RELIABLE);
    assert_eq!(client.recv_text().await, "hi");

    client.client.send_json(json!({"action": "whoami"})).await;
    let whoami = client.recv_json().await;
    assert_eq!(whoami["connectionId"], client.connection_id.as_str());
    client.client.send_binary(&[0, 1, 2, 255]).await;
    assert_eq!(client.recv().await, Frame::Binary(vec![0, 1, 2, 255]));
    assert_eq!(post(&gateway, &client.connection_id, "pushed").await, 200);
    assert_eq!(client.recv_text().await, "pushed");
    assert_eq!(client.last_seq(), 4);

    // An acknowledgement is the gateway's, not a message for `$default`.
    client.ack().await;
    client
        .client
        .expect_silence(Duration::from_millis(300))
        .await;
}

#[tokio::test]
async fn the_application_keeps_its_own_subprotocol_beside_the_reliable_one() {
    let gateway = probe_gateway(&[]);
    // The probe's `$connect` chooses the first subprotocol offered (`chat.v2`).
    let mut client = ReliableClient::connect(&gateway.url("/?proto=1")).await;
    let protocol = client.client.response.headers()["sec-websocket-protocol"].clone();
    assert_eq!(protocol, "chat.v2");
    let (token, last_seq) = {
        client.client.send_json(json!({"action": "whoami"})).await;
        client.recv_json().await;
        client.drop_connection()
    };
    let resumed = ReliableClient::resume(&gateway.url("/"), &token, last_seq).await;
    assert!(resumed.resumed);
    let protocol = resumed.client.response.headers()["sec-websocket-protocol"].clone();
    assert_eq!(
        protocol, "chat.v2",
        "a resume answers the subprotocol $connect chose"
    );
}

#[tokio::test]
async fn a_dropped_connection_stays_listed_keeps_what_it_is_sent_and_resumes_where_it_left_off() {
    let gateway = probe_gateway(&[]);
    let mut observer = gateway.connect("/?observe=1").await;
    let mut client = ReliableClient::connect(&gateway.url("/?user=bob&room=lobby")).await;
    let id = client.connection_id.clone();
    client.client.send_json(json!({"action": "whoami"})).await;
    client.recv_json().await;
    client.ack().await;
    assert_eq!(post(&gateway, &id, "one").await, 200);
    assert_eq!(client.recv_text().await, "one");
    let (token, _) = client.drop_connection();

    gateway
        .wait_for_sample("wsgate_connections_detached", 1.0)
        .await;
    let listed = gateway
        .api("GET", &format!("/@connections/{id}"), b"")
        .await;
    assert_eq!(listed.status, 200, "a detached connection is listed");
    assert_eq!(post(&gateway, &id, "two").await, 200);
    let mut sender = gateway.connect("/").await;
    let roomsend = json!({"action": "roomsend", "room": "lobby", "data": "three"});
    sender.send_json(roomsend).await;
    observer.expect_silence(Duration::from_millis(300)).await;

    // The client says it lost "one" (frame 2): it comes again, then what was missed.
    let mut client = ReliableClient::resume(&gateway.url("/"), &token, 1).await;
    assert!(client.resumed);
    assert_eq!(client.connection_id, id);
    for expected in ["one", "two", "three"] {
        assert_eq!(client.recv_text().await, expected);
    }
    client.client.send_json(json!({"action": "whoami"})).await;
    let whoami = client.recv_json().await;
    assert_eq!(
        whoami["context"]["user"], "bob",
        "the context survives: {whoami}"
    );
    assert_eq!(client.last_seq(), 5);
    gateway.wait_for_sample("wsgate_resumes_total", 1.0).await;
    gateway
        .wait_for_sample("wsgate_connections_detached", 0.0)
        .await;

    client.client.close(1000, "bye").await;
    let report = observer.disconnect_report(&id).await;
    assert_eq!(report["code"], 1000);
}

#[tokio::test]
async fn a_resume_that_cannot_be_honoured_is_a_new_connection_through_connect() {
    let gateway = probe_gateway(&["--resume-window", "300ms"]);
    let mut observer = gateway.connect("/?observe=1").await;
    let client = ReliableClient::connect(&gateway.url("/")).await;
    let id = client.connection_id.clone();
    let (token, last_seq) = client.drop_connection();
    // The window expires: `$disconnect` runs then, once.
    let report = observer.disconnect_report(&id).await;
    assert_eq!(report["code"], 1006);
    assert!(
        report["reason"].as_str().unwrap().contains("not resumed"),
        "{report}"
    );

    for token in [token.as_str(), "not-a-token"] {
        let url = gateway.url("/?welcome=fresh");
        let mut fresh = ReliableClient::resume(&url, token, last_seq).await;
        assert!(!fresh.resumed);
        assert_ne!(fresh.connection_id, id);
        assert_eq!(fresh.recv_text().await, "fresh", "$connect ran again");
    }
    gateway
        .wait_for_sample("wsgate_resumes_refused_total", 2.0)
        .await;
}

#[tokio::test]
async fn overflowing_the_replay_buffer_ends_resumability_and_the_connection() {
    let gateway = probe_gateway(&["--resume-buffer", "3"]);
    let mut observer = gateway.connect("/?observe=1").await;
    let client = ReliableClient::connect(&gateway.url("/")).await;
    let id = client.connection_id.clone();
    let (token, last_seq) = client.drop_connection();
    gateway
        .wait_for_sample("wsgate_connections_detached", 1.0)
        .await;
    for n in 1..=3 {
        assert_eq!(post(&gateway, &id, &format!("kept {n}")).await, 200);
    }
    assert_eq!(
        post(&gateway, &id, "one too many").await,
        410,
        "a message that can never be delivered is not accepted"
    );
    let report = observer.disconnect_report(&id).await;
    assert!(
        report["reason"].as_str().unwrap().contains("overflowed"),
        "{report}"
    );
    gateway
        .wait_for_sample("wsgate_resume_buffer_overflows_total", 1.0)
        .await;
    let fresh = ReliableClient::resume(&gateway.url("/"), &token, last_seq).await;
    assert!(!fresh.resumed);
}

#[tokio::test]
async fn acknowledged_frames_are_dropped_so_a_client_acking_keeps_its_connection_resumable() {
    let gateway = probe_gateway(&["--resume-buffer", "3"]);
    let mut client = ReliableClient::connect(&gateway.url("/")).await;
    let id = client.connection_id.clone();
    for n in 1..=10 {
        assert_eq!(post(&gateway, &id, &format!("m{n}")).await, 200);
        assert_eq!(client.recv_text().await, format!("m{n}"));
        client.ack().await;
    }
    // Ten frames through a buffer of three: every one was acknowledged in time.
    let (token, last_seq) = client.drop_connection();
    let client = ReliableClient::resume(&gateway.url("/"), &token, last_seq).await;
    assert!(client.resumed);
    assert_eq!(client.connection_id, id);
}

#[tokio::test]
async fn a_client_back_before_its_drop_is_seen_takes_its_connection_over() {
    let gateway = probe_gateway(&[]);
    let mut observer = gateway.connect("/?observe=1").await;
    let proxy = Proxy::start(gateway.addr);
    let mut client = ReliableClient::connect(&format!("ws://{}/", proxy.addr())).await;
    let id = client.connection_id.clone();
    client.client.send_json(json!({"action": "whoami"})).await;
    client.recv_json().await;
    // The network between them fails; the gateway does not know yet.
    proxy.blackhole();
    assert_eq!(post(&gateway, &id, "in flight").await, 200);

    let mut resumed = ReliableClient::resume(&gateway.url("/"), &client.token, 1).await;
    assert!(resumed.resumed);
    assert_eq!(resumed.connection_id, id);
    assert_eq!(resumed.recv_text().await, "in flight");
    assert_eq!(post(&gateway, &id, "after").await, 200);
    assert_eq!(resumed.recv_text().await, "after");
    observer.expect_silence(Duration::from_millis(300)).await;
    // The old socket was dropped: once the network is back it ends, having
    // got nothing sent after the takeover.
    proxy.restore();
    let old = client.client.record(None, WAIT).await;
    assert!(old.closed.is_some(), "the old socket is still open");
    assert!(
        old.texts
            .iter()
            .all(|(text, _)| !text.contains("\"after\"")),
        "{:?}",
        old.texts
    );
    resumed.client.close(1000, "bye").await;
    observer.disconnect_report(&id).await;
}

#[tokio::test]
async fn an_unanswered_ping_detaches_a_reliable_connection_rather_than_ending_it() {
    let gateway = probe_gateway(&["--ping-interval", "200ms", "--ping-timeout", "200ms"]);
    let proxy = Proxy::start(gateway.addr);
    let client = ReliableClient::connect(&format!("ws://{}/", proxy.addr())).await;
    let id = client.connection_id.clone();
    proxy.blackhole();
    gateway
        .wait_for_sample("wsgate_connections_detached", 1.0)
        .await;
    let resumed = ReliableClient::resume(&gateway.url("/"), &client.token, 0).await;
    assert!(resumed.resumed);
    assert_eq!(resumed.connection_id, id);
}

#[tokio::test]
async fn a_clean_close_or_a_close_by_the_server_ends_a_reliable_connection_at_once() {
    let gateway = probe_gateway(&[]);
    let mut observer = gateway.connect("/?observe=1").await;

    let client = ReliableClient::connect(&gateway.url("/")).await;
    let (id, token) = (client.connection_id.clone(), client.token.clone());
    client.client.close(1001, "leaving").await;
    assert_eq!(observer.disconnect_report(&id).await["code"], 1001);
    let fresh = ReliableClient::resume(&gateway.url("/"), &token, 0).await;
    assert!(!fresh.resumed);
    let fresh_id = fresh.connection_id.clone();
    fresh.client.close(1000, "done").await;
    observer.disconnect_report(&fresh_id).await;

    let client = ReliableClient::connect(&gateway.url("/")).await;
    let id = client.connection_id.clone();
    client.drop_connection();
    gateway
        .wait_for_sample("wsgate_connections_detached", 1.0)
        .await;
    let path = format!("/@connections/{id}");
    assert_eq!(gateway.api("DELETE", &path, b"").await.status, 204);
    let report = observer.disconnect_report(&id).await;
    assert_eq!(report["initiator"], "api", "{report}");
    assert_eq!(gateway.api("GET", &path, b"").await.status, 410);
}

#[tokio::test]
async fn a_plain_client_still_ends_at_its_drop() {
    let gateway = probe_gateway(&[]);
    let mut observer = gateway.connect("/?observe=1").await;
    let mut client = gateway.connect("/").await;
    let id = client.whoami_id().await;
    client.drop_connection();
    assert_eq!(observer.disconnect_report(&id).await["code"], 1006);
}

#[tokio::test]
async fn a_resume_from_a_foreign_origin_is_refused_like_a_new_connection() {
    let gateway = probe_gateway(&["--allowed-origin", "https://app.example"]);
    let client = ReliableClient::connect(&gateway.url("/")).await;
    let (token, last_seq) = client.drop_connection();
    let url = gateway.url(&format!("/?resume={token}&lastSeq={last_seq}"));
    let mut request = url.into_client_request().unwrap();
    let headers = request.headers_mut();
    headers.insert("sec-websocket-protocol", RELIABLE.parse().unwrap());
    headers.insert("origin", "https://evil.example".parse().unwrap());
    let (status, _) = Client::refused(request).await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn a_shutdown_ends_detached_connections_with_their_disconnect_without_waiting_for_the_window()
{
    let mut gateway = probe_gateway(&[]);
    let client = ReliableClient::connect(&gateway.url("/")).await;
    let id = client.connection_id.clone();
    client.drop_connection();
    gateway
        .wait_for_sample("wsgate_connections_detached", 1.0)
        .await;
    gateway.signal(libc::SIGTERM);
    // Well inside the two-minute resume window.
    assert!(gateway.wait_exit(Duration::from_secs(10)).success());
    let logs = gateway.logs();
    let disconnect = format!("probe $disconnect {id} 1001 shutdown");
    assert_eq!(logs.matches(&disconnect).count(), 1, "{logs}");
}

#[tokio::test]
async fn resumes_count_against_the_new_connection_rate() {
    let gateway = probe_gateway(&["--connections-per-second", "1"]);
    let client = ReliableClient::connect(&gateway.url("/")).await;
    let (mut token, mut last_seq) = client.drop_connection();
    // One new connection a second: a client resuming in a tight loop is
    // refused within a few tries, whatever the machine's pace.
    let mut refused = false;
    for _ in 0..5 {
        let url = gateway.url(&format!("/?resume={token}&lastSeq={last_seq}"));
        let mut request = url.into_client_request().unwrap();
        let protocol = RELIABLE.parse().unwrap();
        request
            .headers_mut()
            .insert("sec-websocket-protocol", protocol);
        match Client::try_connect(request).await {
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                assert_eq!(response.status(), 429);
                refused = true;
                break;
            }
            Err(other) => panic!("{other}"),
            Ok(mut client) => {
                let session = client.recv_json().await;
                token = session["resumeToken"].as_str().unwrap().to_owned();
                last_seq = 0;
                client.drop_connection();
            }
        }
    }
    assert!(refused, "five resumes within a second were all admitted");
}

#[tokio::test]
async fn a_resume_refused_as_a_new_connection_is_charged_to_the_rate_once() {
    // One new connection a second, and none used yet: an unknown token's
    // fresh connection is the second's one handshake, not two.
    let gateway = probe_gateway(&["--connections-per-second", "1"]);
    let fresh = ReliableClient::resume(&gateway.url("/"), "not-a-token", 0).await;
    assert!(!fresh.resumed);
}

#[tokio::test]
async fn a_client_close_other_than_1000_or_1001_detaches_the_connection() {
    let gateway = probe_gateway(&[]);
    let mut observer = gateway.connect("/?observe=1").await;
    let client = ReliableClient::connect(&gateway.url("/")).await;
    let (id, token) = (client.connection_id.clone(), client.token.clone());
    client.client.close(4000, "switching networks").await;
    gateway
        .wait_for_sample("wsgate_connections_detached", 1.0)
        .await;
    observer.expect_silence(Duration::from_millis(300)).await;
    let resumed = ReliableClient::resume(&gateway.url("/"), &token, 0).await;
    assert!(resumed.resumed);
    assert_eq!(resumed.connection_id, id);
}

#[tokio::test]
async fn a_last_seq_the_gateway_cannot_replay_from_is_a_new_connection() {
    let gateway = probe_gateway(&[]);
    let mut client = ReliableClient::connect(&gateway.url("/")).await;
    let id = client.connection_id.clone();
    for n in 1..=2 {
        assert_eq!(post(&gateway, &id, &format!("m{n}")).await, 200);
        client.recv_text().await;
    }
    client.ack().await;
    client.client.send_json(json!({"action": "whoami"})).await;
    client.recv_json().await;
    let (token, _) = client.drop_connection();
    gateway
        .wait_for_sample("wsgate_connections_detached", 1.0)
        .await;
    // Frame 1 was acknowledged (gone), frame 9 was never sent.
    for last_seq in [0, 9] {
        let fresh = ReliableClient::resume(&gateway.url("/"), &token, last_seq).await;
        assert!(!fresh.resumed, "lastSeq={last_seq}");
        assert_ne!(fresh.connection_id, id);
    }
    let resumed = ReliableClient::resume(&gateway.url("/"), &token, 2).await;
    assert!(resumed.resumed, "lastSeq=2 is what the client acknowledged");
}

#[tokio::test]
async fn overflowing_the_replay_buffer_in_bytes_ends_resumability() {
    let gateway = probe_gateway(&["--resume-buffer-bytes", "200"]);
    let mut observer = gateway.connect("/?observe=1").await;
    let client = ReliableClient::connect(&gateway.url("/")).await;
    let id = client.connection_id.clone();
    client.drop_connection();
    gateway
        .wait_for_sample("wsgate_connections_detached", 1.0)
        .await;
    assert_eq!(post(&gateway, &id, &"x".repeat(100)).await, 200);
    assert_eq!(post(&gateway, &id, &"y".repeat(100)).await, 410);
    let report = observer.disconnect_report(&id).await;
    assert!(
        report["reason"].as_str().unwrap().contains("overflowed"),
        "{report}"
    );
}
