//! The management listener under hostile clients, without credentials: a
//! slowloris head and an idle keep-alive connection are cut at the header
//! timeout, an oversized head is refused, and connections beyond
//! `--api-max-connections` are closed at once while WebSocket clients on the
//! client port still connect.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wsgate_tests::http::{Connection, request};
use wsgate_tests::{Gateway, GatewayBuilder, WAIT, eventually};

/// The header timeout the tests configure: long enough that a loaded machine
/// answers in time, short enough that twice it is a quick test.
const HEADER_TIMEOUT: Duration = Duration::from_secs(1);

fn gateway(args: &[&str]) -> Gateway {
    GatewayBuilder::new()
        .component("$default.wasm", "wsgate-echo")
        .args(&["--handshake-timeout", "1s"])
        .args(args)
        .start()
}

const HEALTH: &[u8] = b"GET /health HTTP/1.1\r\nHost: wsgate\r\n\r\n";

#[tokio::test]
async fn a_slowloris_head_is_cut_within_twice_the_header_timeout() {
    let gateway = gateway(&[]);
    let mut stream = tokio::net::TcpStream::connect(gateway.api_addr)
        .await
        .unwrap();
    let started = Instant::now();
    stream
        .write_all(b"GET /health HTTP/1.1\r\nHost: wsgate\r\nX-Slow: ")
        .await
        .unwrap();
    // One more byte every 100 ms: a head that never ends, trickling in.
    let mut drip = tokio::time::interval(Duration::from_millis(100));
    let mut byte = [0u8; 1];
    let cut = tokio::time::timeout(WAIT, async {
        loop {
            tokio::select! {
                read = stream.read(&mut byte) => match read {
                    Ok(0) | Err(_) => return,
                    // hyper may answer 408 before it closes.
                    Ok(_) => continue,
                },
                _ = drip.tick() => {
                    if stream.write_all(b"x").await.is_err() {
                        return;
                    }
                }
            }
        }
    })
    .await;
    assert!(cut.is_ok(), "the slowloris head was never cut");
    let elapsed = started.elapsed();
    assert!(
        elapsed < 2 * HEADER_TIMEOUT,
        "cut after {elapsed:?}, more than twice the header timeout"
    );
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_after_the_timeout() {
    let gateway = gateway(&[]);
    let mut connection = Connection::open(gateway.api_addr).await;
    assert!(connection.send(HEALTH).await);
    assert_eq!(connection.response().await.status, 200);
    // Still open for a second request right away.
    assert!(connection.send(HEALTH).await);
    assert_eq!(connection.response().await.status, 200);
    let idle_since = Instant::now();
    let answered = connection.closed().await;
    let idle = idle_since.elapsed();
    assert!(
        idle >= HEADER_TIMEOUT / 2 && idle < 2 * HEADER_TIMEOUT,
        "an idle keep-alive connection was closed after {idle:?}"
    );
    // hyper may say 408 before it closes.
    assert!(matches!(answered, None | Some(408)), "{answered:?}");
}

#[tokio::test]
async fn a_head_over_the_limit_is_refused_and_one_just_under_is_served() {
    let gateway = gateway(&["--max-header-size", "8192"]);
    // The head around the padding: request line, Host, Connection, Content-Length.
    let under = "p".repeat(7900);
    let served = request(
        gateway.api_addr,
        "GET",
        "/health",
        &[("X-Padding", &under)],
        b"",
    )
    .await;
    assert_eq!(served.status, 200, "{}", served.text());
    // hyper answers 431, though a reset may overtake the answer: the gateway
    // closes without reading the rest of the head.
    let over = format!(
        "GET /health HTTP/1.1\r\nHost: wsgate\r\nX-Padding: {}\r\n\r\n",
        "p".repeat(8300)
    );
    let mut connection = Connection::open(gateway.api_addr).await;
    connection.send(over.as_bytes()).await;
    let answered = connection.closed().await;
    assert!(matches!(answered, None | Some(431)), "{answered:?}");
}

#[tokio::test]
async fn beyond_api_max_connections_a_connection_is_closed_and_clients_still_connect() {
    let gateway = gateway(&["--api-max-connections", "3"]);
    let mut held = Vec::new();
    for _ in 0..3 {
        let mut connection = Connection::open(gateway.api_addr).await;
        assert!(connection.send(HEALTH).await);
        assert_eq!(connection.response().await.status, 200);
        held.push(connection);
    }

    let mut refused = Connection::open(gateway.api_addr).await;
    refused.send(HEALTH).await;
    assert_eq!(
        refused.closed().await,
        None,
        "a connection beyond the cap was answered"
    );

    let mut client = gateway.connect("/").await;
    client.send_text("still here").await;
    assert_eq!(client.recv_text().await, "still here");

    // A place frees up when a held connection ends.
    drop(held.pop());
    let health =
        String::from_utf8_lossy(HEALTH).replace("\r\n\r\n", "\r\nConnection: close\r\n\r\n");
    eventually("a freed management slot serves again", WAIT, || async {
        let mut connection = Connection::open(gateway.api_addr).await;
        connection.send(health.as_bytes()).await;
        match connection.closed().await {
            Some(200) => Ok(()),
            other => Err(format!("answered {other:?}")),
        }
    })
    .await;
}
