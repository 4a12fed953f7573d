//! The web console (`GET /console`) and the endpoints it reads: in headless
//! Chromium, an operator enters the token, sees a client connect, sends it a
//! message and a group message, closes it with a code and reason, and
//! watches it all in the live tail (screenshots under
//! `target/test-artifacts/console/`); and the endpoints themselves, over
//! plain HTTP: the live tail's event stream and its filters, the groups
//! listing, the connections listing's details and search.

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use wsgate_tests::browser::{BrowserScript, screenshot_dir};
use wsgate_tests::{Gateway, GatewayBuilder, WAIT};

const TOKEN: &str = "console-token";

fn gateway() -> Gateway {
    GatewayBuilder::new()
        .probe(&["$connect", "whoami"])
        .api_token(TOKEN)
        .start()
}

#[tokio::test]
async fn an_operator_sees_messages_and_closes_a_client_from_the_console() {
    let gateway = gateway();
    let screenshots = screenshot_dir("console");
    println!("console screenshots: {}", screenshots.display());
    let url = format!("http://{}", gateway.api_addr);
    let mut page = BrowserScript::start(
        "console.js",
        &[&url, TOKEN, screenshots.to_str().expect("a UTF-8 path")],
    );
    page.reached("ready").await;

    let mut client = gateway.connect("/?user=ann&room=red").await;
    let id = client.whoami_id().await;
    page.tell(&id);
    page.reached("sent").await;
    assert_eq!(client.recv_text().await, "hello from the console");
    page.tell("received");
    page.reached("sent-to-group").await;
    assert_eq!(client.recv_text().await, "hello, red");
    page.tell("received");
    page.reached("closed").await;
    let close = client.recv_close().await.expect("a close frame");
    assert_eq!(
        (u16::from(close.code), close.reason.as_str()),
        (4001, "bye from the console")
    );
    page.reached("done").await;
    assert!(page.wait_exit().success(), "the browser script failed");
    let taken = std::fs::read_dir(&screenshots).unwrap().count();
    assert!(
        taken >= 6,
        "{taken} screenshots in {}",
        screenshots.display()
    );
}

/// A `GET` to the management listener whose response is read as it comes.
struct Stream {
    socket: TcpStream,
    seen: String,
}

impl Stream {
    async fn open(gateway: &Gateway, path: &str) -> Stream {
        let mut socket = TcpStream::connect(gateway.api_addr).await.unwrap();
        let head =
            format!("GET {path} HTTP/1.1\r\nHost: wsgate\r\nAuthorization: Bearer {TOKEN}\r\n\r\n");
        socket.write_all(head.as_bytes()).await.unwrap();
        Stream {
            socket,
            seen: String::new(),
        }
    }

    /// Reads until the response so far contains `text`.
    async fn read_until(&mut self, text: &str) -> &str {
        let mut buffer = [0; 4096];
        let reading = async {
            while !self.seen.contains(text) {
                let read = self.socket.read(&mut buffer).await.unwrap();
                assert!(read > 0, "the stream ended early:\n{}", self.seen);
                self.seen
                    .push_str(&String::from_utf8_lossy(&buffer[..read]));
            }
        };
        if tokio::time::timeout(WAIT, reading).await.is_err() {
            panic!("no `{text}` in the stream in time:\n{}", self.seen);
        }
        &self.seen
    }
}

/// The JSON records of an event stream, in order.
fn records(stream: &str) -> Vec<Value> {
    stream
        .lines()
        .filter_map(|line| line.strip_prefix("data: "))
        .map(|data| serde_json::from_str(data).expect("a JSON record"))
        .collect()
}

#[tokio::test]
async fn the_live_tail_streams_the_records_its_filters_let_through() {
    let gateway = gateway();
    let mut watched = gateway.connect("/?user=bob").await;
    let id = watched.whoami_id().await;
    let mut other = gateway.connect("/").await;
    let path = format!("/@tail?connection={}&status=2xx", id.replace('=', "%3D"));
    let mut tail = Stream::open(&gateway, &path).await;
    let head = tail.read_until(": tailing").await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(head.contains("content-type: text/event-stream"), "{head}");
    other.whoami_id().await;
    // A message no route takes is a 403: the status filter leaves it out.
    watched.send_text("no route takes this").await;
    assert_eq!(watched.recv_json().await["message"], "Forbidden");
    watched.whoami_id().await;
    watched.close(1000, "done").await;
    let stream = tail.read_until("\"DISCONNECT\"").await;
    let records = records(stream);
    let kinds: Vec<&str> = records
        .iter()
        .map(|record| record["eventType"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["MESSAGE", "DISCONNECT"], "{stream}");
    assert!(
        records
            .iter()
            .all(|record| record["connectionId"] == id.as_str())
    );
    assert_eq!(records[1]["disconnectReason"], "done");

    let refused = gateway.api("GET", "/@tail?status=42", b"").await;
    assert_eq!(refused.status, 400, "{}", refused.text());
    // The tail shows every event: without the API's credentials, nothing.
    let anonymous = wsgate_tests::http::request(gateway.api_addr, "GET", "/@tail", &[], b"").await;
    assert_eq!(anonymous.status, 401, "{}", anonymous.text());
}

#[tokio::test]
async fn listings_give_details_search_and_groups() {
    let gateway = gateway();
    let mut ann = gateway.connect("/?user=ann&room=red").await;
    let ann_id = ann.whoami_id().await;
    let mut bob = gateway.connect("/?user=bob&room=blue").await;
    bob.whoami_id().await;

    let groups = gateway.api("GET", "/@groups", b"").await.json();
    assert_eq!(groups["groups"], serde_json::json!(["blue", "red"]));
    assert_eq!(groups["nextCursor"], Value::Null);
    let first = gateway.api("GET", "/@groups?limit=1", b"").await.json();
    assert_eq!(first["nextCursor"], "blue");

    let found = gateway
        .api("GET", "/@connections?details=true&search=ANN", b"")
        .await
        .json();
    assert_eq!(found["connectionIds"], serde_json::json!([ann_id]));
    let details = &found["connections"][0];
    assert_eq!(details["connectionId"], ann_id.as_str());
    assert_eq!(details["context"]["user"], "ann");
    assert_eq!(details["groups"], serde_json::json!(["red"]));
    assert_eq!(details["identity"]["sourceIp"], "127.0.0.1");
    let by_group = gateway
        .api("GET", "/@connections?search=blue", b"")
        .await
        .json();
    assert_eq!(by_group["connectionIds"].as_array().unwrap().len(), 1);
    assert!(by_group.get("connections").is_none());

    let one = gateway
        .api(
            "GET",
            &format!("/@connections/{}", ann_id.replace('=', "%3D")),
            b"",
        )
        .await
        .json();
    assert_eq!(one["groups"], serde_json::json!(["red"]));
    let routes = gateway.api("GET", "/@routes", b"").await.json();
    let swaps = routes["swaps"].as_array().unwrap();
    assert!(
        swaps
            .iter()
            .any(|swap| swap["routeKey"] == "whoami" && swap["change"] == "bound")
    );

    let page = gateway.api("GET", "/console", b"").await;
    assert_eq!(page.status, 200);
    assert!(page.text().contains("<title>wsgate console</title>"));
}
