//! The sandbox: a panic, an infinite loop, a memory bomb or a handler error
//! fails only its own event. The client gets an Internal server error frame and
//! stays connected; other connections never notice.

use wsgate_tests::{Client, Gateway, GatewayBuilder, WAIT, eventually};

fn faulty_gateway(deadline: &str) -> Gateway {
    GatewayBuilder::new()
        .component("$default.wasm", "faulty")
        .args(&["--handler-timeout", deadline, "--handler-memory-mb", "32"])
        .start()
}

/// Sends `fault` and expects the Internal server error frame, then checks the
/// connection still works.
async fn fails_only_this_event(client: &mut Client, fault: &str) {
    client.send_text(fault).await;
    answers_with_an_error_and_recovers(client).await;
}

/// Expects the Internal server error frame for the event in flight, then a
/// normal answer to the next message on the same connection.
async fn answers_with_an_error_and_recovers(client: &mut Client) {
    let error = client.recv_json().await;
    assert_eq!(error["message"], "Internal server error");
    assert!(
        error["connectionId"]
            .as_str()
            .is_some_and(|id| !id.is_empty())
    );
    assert!(error["requestId"].as_str().is_some_and(|id| !id.is_empty()));
    client.send_text("still here").await;
    assert_eq!(client.recv_text().await, "ok:still here");
}

#[tokio::test]
async fn a_panic_fails_only_its_event() {
    let gateway = faulty_gateway("1s");
    let mut client = gateway.connect("/").await;
    fails_only_this_event(&mut client, "panic").await;
    gateway.wait_for_log("handler failed").await;
}

#[tokio::test]
async fn a_returned_error_fails_only_its_event() {
    let gateway = faulty_gateway("1s");
    let mut client = gateway.connect("/").await;
    fails_only_this_event(&mut client, "error").await;
    gateway.wait_for_log("faulty handler refused").await;
}

/// What the host logs (in the `handler failed` error, from wasmtime's store
/// limits) when a handler grows its memory past the cap.
const MEMORY_CAP_HIT: &str = "forcing trap when growing memory to";

/// Waits until the log shows the memory cap stopping a handler `times` times.
async fn memory_cap_hit(gateway: &Gateway, times: usize) {
    eventually("the memory cap stops the bomb", WAIT, async || {
        let logs = gateway.logs();
        match logs.matches(MEMORY_CAP_HIT).count() {
            hits if hits >= times => Ok(()),
            hits => Err(format!("{hits} times in\n{logs}")),
        }
    })
    .await
}

#[tokio::test]
async fn a_memory_bomb_is_stopped_by_the_memory_cap_and_fails_only_its_event() {
    let gateway = faulty_gateway("5s");
    let mut client = gateway.connect("/").await;
    fails_only_this_event(&mut client, "bomb").await;
    memory_cap_hit(&gateway, 1).await;
    // A fresh instance serves later events: the bomb can go off again.
    fails_only_this_event(&mut client, "bomb").await;
    memory_cap_hit(&gateway, 2).await;
}

#[tokio::test]
async fn an_infinite_loop_is_cut_at_the_deadline_while_others_keep_working() {
    let gateway = faulty_gateway("2s");
    let mut looper = gateway.connect("/").await;
    let mut neighbour = gateway.connect("/").await;
    looper.send_text("loop").await;
    // While the loop burns its CPU budget, the neighbour is served.
    for n in 0..5 {
        neighbour.send_text(&format!("n{n}")).await;
        assert_eq!(neighbour.recv_text().await, format!("ok:n{n}"));
    }
    answers_with_an_error_and_recovers(&mut looper).await;
    gateway.wait_for_log("CPU deadline").await;
}

#[tokio::test]
async fn an_instance_past_the_shared_memory_budget_fails_its_event_and_the_holder_goes_on() {
    // Each instance may grow to 48 MiB, but all together only to 64 MiB.
    let gateway = GatewayBuilder::new()
        .component("$default.wasm", "faulty")
        .args(&["--handler-memory-mb", "48", "--handlers-memory-total", "64"])
        .start();
    let mut holder = gateway.connect("/").await;
    let mut latecomer = gateway.connect("/").await;
    holder.send_text("hold:40:3000").await;
    gateway.wait_for_log("holding 40 MiB").await;
    // The holder's instance is busy, so this needs a second one: over budget.
    latecomer.send_text("hold:40:0").await;
    answers_with_an_error_and_recovers(&mut latecomer).await;
    gateway
        .wait_for_log(
            "the handlers' total memory budget of 64 MiB (--handlers-memory-total) is used up",
        )
        .await;
    assert_eq!(holder.recv_text().await, "held:40");
    holder.send_text("after").await;
    assert_eq!(holder.recv_text().await, "ok:after");
}

#[tokio::test]
async fn with_rust_backtrace_set_a_trap_costs_a_few_log_lines_and_no_host_backtrace() {
    let gateway = GatewayBuilder::new()
        .component("$default.wasm", "faulty")
        .env("RUST_BACKTRACE", "1")
        .start();
    let mut client = gateway.connect("/").await;
    client.send_text("warm").await;
    assert_eq!(client.recv_text().await, "ok:warm");
    let (lines_before, rss_before) = (gateway.logs().lines().count(), gateway.rss_kib());
    fails_only_this_event(&mut client, "panic").await;
    gateway.wait_for_log("handler failed").await;
    let logs = gateway.logs();
    let new: Vec<&str> = logs.lines().skip(lines_before).collect();
    assert!(
        !new.iter()
            .any(|line| line.to_lowercase().contains("stack backtrace")),
        "a host backtrace was logged:\n{}",
        new.join("\n")
    );
    assert!(
        new.len() < 60,
        "{} log lines for one trap:\n{}",
        new.len(),
        new.join("\n")
    );
    let grown = gateway.rss_kib().saturating_sub(rss_before);
    assert!(
        grown < 40 * 1024,
        "one trap grew the gateway's memory by {grown} KiB"
    );
}
