//! The key-value store through `wasi:keyvalue`: every operation from a
//! handler, buckets isolated by name, shared between routes, restricted per
//! route, the embedded store keeping every write through a kill, and the
//! Redis store shared by two gateways and recovering from a Redis restart.

use serde_json::{Value, json};
use wsgate_tests::{Client, Gateway, GatewayBuilder, WAIT, eventually};

async fn kv(client: &mut Client, command: Value) -> Value {
    let mut command = command;
    command["action"] = json!("kv");
    client.send_json(command).await;
    client.recv_json().await
}

fn probe_with_kv(extra: &str) -> GatewayBuilder {
    GatewayBuilder::new()
        .component("probe.wasm", "probe")
        .config(&format!(
            "[routes]\n\"$default\" = \"probe.wasm\"\nkv = \"probe.wasm\"\n{extra}"
        ))
}

#[tokio::test]
async fn a_handler_stores_reads_lists_counts_and_deletes() {
    let gateway = probe_with_kv("").start();
    let mut client = gateway.connect("/").await;
    let b = "notes";
    assert_eq!(
        kv(&mut client, json!({"op": "get", "bucket": b, "key": "a"})).await,
        json!({"ok": null})
    );
    assert_eq!(
        kv(
            &mut client,
            json!({"op": "set", "bucket": b, "key": "a", "value": "one"})
        )
        .await,
        json!({"ok": null})
    );
    assert_eq!(
        kv(&mut client, json!({"op": "get", "bucket": b, "key": "a"})).await,
        json!({"ok": "one"})
    );
    assert_eq!(
        kv(
            &mut client,
            json!({"op": "exists", "bucket": b, "key": "a"})
        )
        .await,
        json!({"ok": true})
    );
    kv(
        &mut client,
        json!({"op": "setmany", "bucket": b, "pairs": [["b", "two"], ["c", "three"]]}),
    )
    .await;
    assert_eq!(
        kv(
            &mut client,
            json!({"op": "getmany", "bucket": b, "keys": ["a", "x", "c"]})
        )
        .await,
        json!({"ok": ["one", null, "three"]})
    );
    assert_eq!(
        kv(&mut client, json!({"op": "keys", "bucket": b})).await,
        json!({"ok": ["a", "b", "c"]})
    );
    assert_eq!(
        kv(
            &mut client,
            json!({"op": "incr", "bucket": b, "key": "n", "delta": 5})
        )
        .await,
        json!({"ok": 5})
    );
    assert_eq!(
        kv(
            &mut client,
            json!({"op": "incr", "bucket": b, "key": "n", "delta": 2})
        )
        .await,
        json!({"ok": 7})
    );
    let not_a_number = kv(
        &mut client,
        json!({"op": "incr", "bucket": b, "key": "a", "delta": 1}),
    )
    .await;
    assert_eq!(not_a_number["error"], "other", "{not_a_number}");
    assert!(
        not_a_number["message"]
            .as_str()
            .unwrap()
            .contains("not a decimal number")
    );
    kv(
        &mut client,
        json!({"op": "delete", "bucket": b, "key": "a"}),
    )
    .await;
    kv(
        &mut client,
        json!({"op": "deletemany", "bucket": b, "keys": ["b", "x"]}),
    )
    .await;
    assert_eq!(
        kv(&mut client, json!({"op": "keys", "bucket": b})).await,
        json!({"ok": ["c", "n"]})
    );

    // Buckets are isolated by name; bad names are refused with a reason.
    assert_eq!(
        kv(&mut client, json!({"op": "keys", "bucket": "other"})).await,
        json!({"ok": []})
    );
    let bad = kv(
        &mut client,
        json!({"op": "get", "bucket": "no spaces/here", "key": "a"}),
    )
    .await;
    assert_eq!(bad["error"], "other");
    assert!(
        bad["message"]
            .as_str()
            .unwrap()
            .contains("not a bucket name"),
        "{bad}"
    );
}

#[tokio::test]
async fn many_concurrent_increments_lose_nothing() {
    let gateway = probe_with_kv("").start();
    let mut clients = Vec::new();
    for _ in 0..5 {
        clients.push(gateway.connect("/").await);
    }
    let rounds = 20;
    let tasks = clients.into_iter().map(|mut client| {
        tokio::spawn(async move {
            for _ in 0..rounds {
                kv(
                    &mut client,
                    json!({"op": "incr", "bucket": "counters", "key": "hits", "delta": 1}),
                )
                .await;
            }
            client
        })
    });
    let mut clients = Vec::new();
    for task in tasks {
        clients.push(tokio::time::timeout(WAIT * 3, task).await.unwrap().unwrap());
    }
    let total = kv(
        &mut clients[0],
        json!({"op": "get", "bucket": "counters", "key": "hits"}),
    )
    .await;
    assert_eq!(total, json!({"ok": (5 * rounds).to_string()}));
}

#[tokio::test]
async fn routes_share_buckets_unless_restricted() {
    let gateway =
        probe_with_kv("[routes.kv2]\ncomponent = \"probe.wasm\"\nbuckets = [\"public\"]\n").start();
    let mut client = gateway.connect("/").await;
    kv(
        &mut client,
        json!({"op": "set", "bucket": "public", "key": "k", "value": "from kv"}),
    )
    .await;
    kv(
        &mut client,
        json!({"op": "set", "bucket": "secret", "key": "k", "value": "hidden"}),
    )
    .await;

    let restricted = |command: Value| {
        let mut command = command;
        command["action"] = json!("kv2");
        command
    };
    client
        .send_json(restricted(
            json!({"op": "get", "bucket": "public", "key": "k"}),
        ))
        .await;
    assert_eq!(
        client.recv_json().await,
        json!({"ok": "from kv"}),
        "the other route's write is visible"
    );
    client
        .send_json(restricted(
            json!({"op": "get", "bucket": "secret", "key": "k"}),
        ))
        .await;
    let denied = client.recv_json().await;
    assert_eq!(denied["error"], "access-denied", "{denied}");
    gateway
        .wait_for_line(&["bucket `secret` denied", "route=kv2"])
        .await;
}

/// Kills the gateway without a chance to flush anything.
fn kill(mut gateway: Gateway) {
    gateway.signal(libc::SIGKILL);
    gateway.wait_exit(WAIT);
}

#[tokio::test]
async fn the_embedded_store_keeps_every_acknowledged_write_through_a_kill() {
    let data = tempfile::tempdir().unwrap();
    let data_dir = data.path().to_str().unwrap().to_owned();
    let start = || probe_with_kv("").args(&["--data-dir", &data_dir]).start();

    let gateway = start();
    let mut client = gateway.connect("/").await;
    for i in 0..50 {
        kv(&mut client, json!({"op": "set", "bucket": "durable", "key": format!("k{i:02}"), "value": format!("v{i}")})).await;
    }
    kv(
        &mut client,
        json!({"op": "incr", "bucket": "durable", "key": "count", "delta": 50}),
    )
    .await;
    drop(client);
    kill(gateway);

    let gateway = start();
    let mut client = gateway.connect("/").await;
    let keys = kv(&mut client, json!({"op": "keys", "bucket": "durable"})).await;
    assert_eq!(keys["ok"].as_array().unwrap().len(), 51, "{keys}");
    assert_eq!(
        kv(
            &mut client,
            json!({"op": "get", "bucket": "durable", "key": "k49"})
        )
        .await,
        json!({"ok": "v49"})
    );
    assert_eq!(
        kv(
            &mut client,
            json!({"op": "incr", "bucket": "durable", "key": "count", "delta": 1})
        )
        .await,
        json!({"ok": 51})
    );

    // A second gateway on the same data directory is refused with a reason.
    let error = probe_with_kv("")
        .args(&["--data-dir", &data_dir])
        .start_and_fail();
    assert!(error.contains("in use by another process"), "{error}");
}

#[tokio::test]
async fn the_redis_store_is_shared_by_gateways_and_survives_a_redis_restart() {
    let mut redis = wsgate_tests::redis::Redis::start();
    let url = redis.url();
    let start = || probe_with_kv("").args(&["--kv", &url]).start();
    let (a, b) = (start(), start());
    let mut on_a = a.connect("/").await;
    let mut on_b = b.connect("/").await;

    kv(
        &mut on_a,
        json!({"op": "set", "bucket": "shared", "key": "k", "value": "from a"}),
    )
    .await;
    assert_eq!(
        kv(
            &mut on_b,
            json!({"op": "get", "bucket": "shared", "key": "k"})
        )
        .await,
        json!({"ok": "from a"}),
        "a write on one gateway is read on the other"
    );
    kv(
        &mut on_b,
        json!({"op": "setmany", "bucket": "shared", "pairs": [["x", "1"], ["y", "2"]]}),
    )
    .await;
    assert_eq!(
        kv(
            &mut on_a,
            json!({"op": "getmany", "bucket": "shared", "keys": ["x", "nope", "y"]})
        )
        .await,
        json!({"ok": ["1", null, "2"]})
    );
    assert_eq!(
        kv(&mut on_a, json!({"op": "keys", "bucket": "shared"})).await,
        json!({"ok": ["k", "x", "y"]})
    );
    for _ in 0..3 {
        kv(
            &mut on_a,
            json!({"op": "incr", "bucket": "shared", "key": "n", "delta": 2}),
        )
        .await;
        kv(
            &mut on_b,
            json!({"op": "incr", "bucket": "shared", "key": "n", "delta": 1}),
        )
        .await;
    }
    assert_eq!(
        kv(
            &mut on_a,
            json!({"op": "get", "bucket": "shared", "key": "n"})
        )
        .await,
        json!({"ok": "9"})
    );
    let not_a_number = kv(
        &mut on_a,
        json!({"op": "incr", "bucket": "shared", "key": "k", "delta": 1}),
    )
    .await;
    assert!(
        not_a_number["message"]
            .as_str()
            .unwrap()
            .contains("not a decimal number"),
        "{not_a_number}"
    );
    kv(
        &mut on_b,
        json!({"op": "deletemany", "bucket": "shared", "keys": ["x", "y"]}),
    )
    .await;
    assert_eq!(
        kv(
            &mut on_a,
            json!({"op": "exists", "bucket": "shared", "key": "x"})
        )
        .await,
        json!({"ok": false})
    );

    // Redis gone: operations fail with a reason, the connection stays.
    redis.stop();
    let failed = kv(
        &mut on_a,
        json!({"op": "get", "bucket": "shared", "key": "k"}),
    )
    .await;
    assert_eq!(failed["error"], "other", "{failed}");
    assert!(
        failed["message"]
            .as_str()
            .unwrap()
            .contains("Redis key-value store"),
        "{failed}"
    );
    redis.restart();
    eventually("the store comes back", WAIT, async || {
        let answer = kv(
            &mut on_a,
            json!({"op": "set", "bucket": "shared", "key": "back", "value": "yes"}),
        )
        .await;
        if answer == json!({"ok": null}) {
            Ok(())
        } else {
            Err(answer)
        }
    })
    .await;
    assert_eq!(
        kv(
            &mut on_b,
            json!({"op": "get", "bucket": "shared", "key": "back"})
        )
        .await,
        json!({"ok": "yes"})
    );
}
