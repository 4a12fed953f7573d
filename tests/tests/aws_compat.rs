//! `--compat aws` (docs/aws-compatibility.md): API Gateway's fixed quotas
//! (32 KiB frames and 128 KiB messages, closed with 1009 beyond; an option
//! contradicting one is refused), binary frames closed with 1003,
//! and no sends to a connection until its `$connect` has returned.

use serde_json::Value;
use wsgate_tests::{Gateway, GatewayBuilder, WAIT, eventually};

fn probe_gateway(args: &[&str]) -> Gateway {
    GatewayBuilder::new()
        .probe(&["$connect", "$disconnect", "$default", "whoami"])
        .args(args)
        .start()
}

#[tokio::test]
async fn a_binary_frame_closes_the_connection_with_1003_and_its_disconnect_says_so() {
    let gateway = probe_gateway(&["--compat", "aws"]);
    let mut observer = gateway.connect("/?observe=1").await;
    let mut client = gateway.connect("/").await;
    let id = client.whoami_id().await;
    client.send_binary(&[1, 2, 3]).await;
    let close = client.recv_close().await.expect("a close frame");
    assert_eq!(u16::from(close.code), 1003);
    let report = observer.recv_json().await;
    assert_eq!(report["connectionId"], id.as_str());
    assert_eq!(report["code"], 1003);
    assert_eq!(report["initiator"], "server");
}

#[tokio::test]
async fn a_binary_frame_is_a_message_like_any_other_without_compat() {
    let gateway = probe_gateway(&["--compat", "off"]);
    let mut client = gateway.connect("/").await;
    client.send_binary(&[1, 2, 3]).await;
    assert_eq!(client.recv().await.into_data().as_ref(), [1, 2, 3]);
}

#[tokio::test]
async fn frames_over_32_kib_and_messages_over_128_kib_are_closed_with_1009() {
    let gateway = GatewayBuilder::new()
        .component("$default.wasm", "wsgate-echo")
        .args(&["--compat", "aws"])
        .start();
    const KIB: usize = 1024;
    let mut client = gateway.connect("/").await;
    // At the quotas exactly: a 32 KiB frame, a 128 KiB message in four.
    let frame = "f".repeat(32 * KIB);
    client.send_text(&frame).await;
    assert_eq!(client.recv_text().await.len(), 32 * KIB);
    let message = "m".repeat(128 * KIB);
    client.send_text_in_frames(&message, 32 * KIB).await;
    assert_eq!(client.recv_text().await, message);

    client.send_text(&"f".repeat(32 * KIB + 1)).await;
    let close = client.recv_close().await.expect("a close frame");
    assert_eq!(u16::from(close.code), 1009, "one byte over the frame quota");

    let mut client = gateway.connect("/").await;
    client
        .send_text_in_frames(&"m".repeat(128 * KIB + 1), 32 * KIB)
        .await;
    let close = client.recv_close().await.expect("a close frame");
    assert_eq!(
        u16::from(close.code),
        1009,
        "one byte over the message quota"
    );
}

/// The id of the one connection whose `$connect` is still running (listed
/// before `$connect` returns), once the listing shows it.
async fn connecting_id(gateway: &Gateway) -> String {
    eventually("the connection is listed", WAIT, async || {
        let listing = gateway.api("GET", "/@connections", b"").await;
        let listing: Value = serde_json::from_slice(&listing.body).map_err(|e| e.to_string())?;
        match listing["connectionIds"][0].as_str() {
            Some(id) => Ok(id.to_owned()),
            None => Err(listing.to_string()),
        }
    })
    .await
}

async fn post_during_connect(args: &[&str]) -> (u16, u16) {
    let gateway = probe_gateway(args);
    // `$connect` sleeps long enough for the API to try a send meanwhile.
    let url = gateway.url("/?sleep=1500");
    let connecting = tokio::spawn(async move { wsgate_tests::Client::connect(&url).await });
    let id = connecting_id(&gateway).await;
    let path = format!("/@connections/{id}");
    let during = gateway.api("POST", &path, b"too early").await.status;
    assert!(
        !connecting.is_finished(),
        "the POST came after $connect returned: the test proves nothing"
    );
    let mut client = connecting.await.unwrap();
    let after = gateway.api("POST", &path, b"in time").await.status;
    // What was accepted during `$connect` arrives first, and only that.
    if during == 200 {
        assert_eq!(client.recv_text().await, "too early");
    }
    assert_eq!(client.recv_text().await, "in time");
    (during, after)
}

#[tokio::test]
async fn a_send_before_connect_returns_is_gone_as_on_api_gateway() {
    assert_eq!(post_during_connect(&["--compat", "aws"]).await, (410, 200));
    // wsgate's own behaviour: a greeting during `$connect` arrives first.
    assert_eq!(post_during_connect(&[]).await, (200, 200));
}

#[test]
fn an_option_contradicting_a_fixed_quota_is_refused_and_one_agreeing_is_fine() {
    let refused = GatewayBuilder::new()
        .probe(&["$default"])
        .args(&["--compat", "aws", "--max-message-size", "1000000"])
        .start_and_fail();
    assert!(
        refused.contains("--compat aws fixes max_message_size (--max-message-size, WSGATE_MAX_MESSAGE_SIZE) to 131072 bytes"),
        "{refused}"
    );
    let refused = GatewayBuilder::new()
        .probe(&["$default"])
        .config("compat = \"aws\"\nmax_connection_duration = \"0s\"\n")
        .start_and_fail();
    assert!(refused.contains("max_connection_duration"), "{refused}");
    for (flag, value, quota) in [
        (
            "--max-frame-size",
            "65536",
            "max_frame_size (--max-frame-size, WSGATE_MAX_FRAME_SIZE) to 32768 bytes",
        ),
        (
            "--idle-timeout",
            "1h",
            "idle_timeout (--idle-timeout, WSGATE_IDLE_TIMEOUT) to 10m",
        ),
    ] {
        let refused = GatewayBuilder::new()
            .probe(&["$default"])
            .args(&["--compat", "aws", flag, value])
            .start_and_fail();
        assert!(
            refused.contains(&format!("--compat aws fixes {quota}")),
            "{refused}"
        );
    }
    let _agreeing = GatewayBuilder::new()
        .probe(&["$default"])
        .args(&["--compat", "aws", "--idle-timeout", "10m"])
        .start();
}

#[tokio::test]
async fn each_route_and_endpoint_using_an_extension_is_warned_about_once() {
    let warning = "is not available on AWS API Gateway";
    for (compat, warned) in [("aws", true), ("off", false)] {
        let gateway = probe_gateway(&["--compat", compat]);
        // The probe's `$connect` joins the room: the groups interface.
        for _ in 0..2 {
            gateway.connect("/?room=lobby").await.whoami_id().await;
            gateway.api("GET", "/@connections", b"").await;
        }
        if warned {
            gateway
                .wait_for_line(&["the groups interface", warning, "by=\"$connect\""])
                .await;
            gateway.wait_for_line(&["GET /@connections", warning]).await;
        }
        let logs = gateway.logs();
        let count = |what: &str| {
            logs.lines()
                .filter(|line| line.contains(what) && line.contains(warning))
                .count()
        };
        let expected = usize::from(warned);
        // `$disconnect` reports to a group as well: a route of its own.
        assert_eq!(count("by=\"$connect\""), expected, "{logs}");
        assert_eq!(count("GET /@connections"), expected, "{logs}");
    }
}
