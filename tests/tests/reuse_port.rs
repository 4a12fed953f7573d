//! `--reuse-port`: several gateway processes share one client port (to hold
//! more connections than one process's file limit allows); the kernel spreads
//! new connections over them. Without the flag the port stays taken.

use std::net::TcpListener;

use wsgate_tests::{Client, Gateway, GatewayBuilder};

/// A port that was free a moment ago.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("find a free port")
        .port()
}

fn gateway_on(addr: &str, reuse_port: bool) -> GatewayBuilder {
    let builder = GatewayBuilder::new().probe(&["$default"]).listen(addr);
    match reuse_port {
        true => builder.args(&["--reuse-port"]),
        false => builder,
    }
}

/// How many connections `gateway` holds, from its own management API.
async fn held(gateway: &Gateway) -> usize {
    let listed = gateway
        .api("GET", "/@connections?limit=1000", b"")
        .await
        .json();
    listed["connectionIds"]
        .as_array()
        .expect("a page of ids")
        .len()
}

#[tokio::test]
async fn processes_with_reuse_port_share_the_port_and_the_connections() {
    let addr = format!("127.0.0.1:{}", free_port());
    let first = gateway_on(&addr, true).start();
    let second = gateway_on(&addr, true).start();
    assert_eq!(first.addr, second.addr);

    let mut clients = Vec::new();
    for _ in 0..40 {
        let mut client = Client::connect(&format!("ws://{addr}/")).await;
        client.send_text("hello").await;
        assert_eq!(client.recv_json().await["body"], "hello");
        clients.push(client);
    }
    let (on_first, on_second) = (held(&first).await, held(&second).await);
    assert_eq!(on_first + on_second, 40);
    // The kernel hashes each connection to one listener: with 40 connections,
    // both getting some is all but certain (2 × 2⁻⁴⁰ otherwise).
    assert!(on_first > 0 && on_second > 0, "{on_first} + {on_second}");

    // A process without the flag cannot take the port.
    let error = gateway_on(&addr, false).start_and_fail();
    assert!(error.contains("cannot listen for clients"), "{error}");
}
