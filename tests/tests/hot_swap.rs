//! Hot swap with real files and real clients: components are replaced, added,
//! removed and broken while clients talk, and no connection notices.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use serde_json::json;
use wsgate_tests::{
    Client, Gateway, GatewayBuilder, STARTUP, WAIT, deploy, eventually, quiet, tagger_version,
    wsgate_deploy,
};

/// A gateway serving tagger version `tag` as `file`.
fn tagger_gateway(file: &str, tag: &str, args: &[&str]) -> Gateway {
    GatewayBuilder::new()
        .file(file, &tagger_version(tag))
        .args(args)
        .start()
}

/// The version number in a tagger reply `tag-____0007:…`.
fn version_of(reply: &str) -> u32 {
    let tag = reply.split(':').next().unwrap_or_default();
    tag.trim_start_matches("tag-")
        .trim_start_matches('_')
        .parse()
        .unwrap_or_else(|_| panic!("not a tagged reply: {reply}"))
}

/// Waits until `counter` (of what clients did) has reached `at_least`.
async fn reached(what: &str, counter: &AtomicUsize, at_least: usize) {
    eventually(what, WAIT, async || {
        let now = counter.load(Ordering::Acquire);
        if now >= at_least { Ok(()) } else { Err(now) }
    })
    .await
}

/// Waits until the gateway has switched `route` to generation `generation`.
async fn swapped(gateway: &Gateway, route: &str, generation: u32) {
    let route = format!("route swapped route={route} ");
    let generation = format!("generation={generation} ");
    gateway.wait_for_line(&[&route, &generation]).await;
}

#[tokio::test]
async fn swapping_twenty_times_under_load_drops_nothing_and_switches_at_once() {
    swaps_under_load(200, 20, |dir, version| {
        deploy(dir, "$default.wasm", &tagger_version(&version.to_string()))
    })
    .await;
}

#[tokio::test]
async fn wsgate_deploy_under_load_drops_nothing_and_switches_at_once() {
    swaps_under_load(100, 5, |dir, version| {
        let (ok, said) = wsgate_deploy(dir, "$default", &tagger_version(&version.to_string()));
        assert!(ok && said.contains("deployed"), "{said}");
    })
    .await;
}

/// `client_count` clients talk to tagger version 0 while `deliver` puts versions
/// 1 to `swaps` into the plugins directory, one after the other: every request
/// is answered exactly once and in order, no connection drops, no version
/// answers after a newer one went live, and every client ends on the last.
async fn swaps_under_load(
    client_count: usize,
    swaps: u32,
    deliver: impl Fn(&std::path::Path, u32),
) {
    let gateway = tagger_gateway("$default.wasm", "0", &["--connection-rate", "0"]);
    let url = gateway.url("/");
    let clients: Vec<Client> = join_all((0..client_count).map(|_| Client::connect(&url))).await;

    // The newest version confirmed live by the gateway's log.
    let live = Arc::new(AtomicU32::new(0));
    let done = Arc::new(AtomicBool::new(false));
    // Replies answered, and clients answered by the last version.
    let answered = Arc::new(AtomicUsize::new(0));
    let on_last = Arc::new(AtomicUsize::new(0));
    let talkers = clients.into_iter().map(|mut client| {
        let (live, done) = (Arc::clone(&live), Arc::clone(&done));
        let (answered, on_last) = (Arc::clone(&answered), Arc::clone(&on_last));
        tokio::spawn(async move {
            let (mut sent, mut newest) = (0u64, 0u32);
            while !done.load(Ordering::Acquire) {
                let confirmed = live.load(Ordering::Acquire);
                client.send_text(&sent.to_string()).await;
                let reply = client.recv_text().await;
                let (version, body) = (
                    version_of(&reply),
                    reply.split(':').nth(1).unwrap_or_default(),
                );
                // Exactly one reply per request, in order.
                assert_eq!(body, sent.to_string(), "reply out of order");
                // Never an older version after a newer one on this connection,
                // and never a version older than one confirmed before sending.
                assert!(version >= newest, "version {version} after {newest}");
                assert!(
                    version >= confirmed,
                    "version {version} answered after {confirmed} went live"
                );
                if version == swaps && newest < swaps {
                    on_last.fetch_add(1, Ordering::AcqRel);
                }
                newest = version;
                sent += 1;
                answered.fetch_add(1, Ordering::AcqRel);
            }
            (sent, newest)
        })
    });
    let talkers: Vec<_> = talkers.collect();

    for version in 1..=swaps {
        // Every client has had time for a request, on average, since the last swap.
        let since = answered.load(Ordering::Acquire);
        reached(
            "the clients talk between swaps",
            &answered,
            since + client_count,
        )
        .await;
        deliver(gateway.plugins_dir(), version);
        swapped(&gateway, "$default", version + 1).await;
        live.store(version, Ordering::Release);
    }
    reached(
        "every client is answered by the last version",
        &on_last,
        client_count,
    )
    .await;
    // Checked before the clients stop (and disconnect, as they then should).
    let during = gateway.logs();
    done.store(true, Ordering::Release);

    let mut total = 0;
    for talker in talkers {
        let (sent, newest) = talker.await.expect("a client failed");
        assert_eq!(newest, swaps, "every client ends on the last version");
        total += sent;
    }
    assert!(
        !during.contains("disconnected connection="),
        "a client was disconnected"
    );
    eprintln!("{client_count} clients, {swaps} swaps, {total} requests answered exactly once");
}

#[tokio::test]
async fn a_broken_file_under_load_is_refused_and_the_old_version_keeps_answering() {
    let gateway = tagger_gateway("$default.wasm", "1", &[]);
    let url = gateway.url("/");
    let mut clients: Vec<Client> = join_all((0..20).map(|_| Client::connect(&url))).await;
    deploy(
        gateway.plugins_dir(),
        "$default.wasm",
        b"\0asm this is not a component",
    );
    gateway.wait_for_log("component refused").await;
    assert!(gateway.logs().contains("$default.wasm"));
    for client in &mut clients {
        client.send_text("still?").await;
        assert_eq!(client.recv_text().await, "tag-_______1:still?");
    }
    // A good file afterwards is taken.
    deploy(gateway.plugins_dir(), "$default.wasm", &tagger_version("2"));
    swapped(&gateway, "$default", 2).await;
    clients[0].send_text("now").await;
    assert_eq!(clients[0].recv_text().await, "tag-_______2:now");
}

#[tokio::test]
async fn adding_renaming_and_deleting_files_binds_and_unbinds_routes() {
    let gateway = tagger_gateway("$default.wasm", "def", &[]);
    let mut client = gateway.connect("/").await;
    let shout = json!({"action": "shout", "text": "hi"}).to_string();

    deploy(
        gateway.plugins_dir(),
        "shout.wasm",
        &tagger_version("shout"),
    );
    gateway.wait_for_log("route bound route=shout").await;
    client.send_text(&shout).await;
    assert!(client.recv_text().await.starts_with("tag-___shout:"));

    std::fs::rename(
        gateway.plugins_dir().join("shout.wasm"),
        gateway.plugins_dir().join("yell.wasm"),
    )
    .unwrap();
    gateway.wait_for_log("route bound route=yell").await;
    gateway
        .wait_for_line(&["route unbound", "route=shout"])
        .await;
    client.send_text(&shout).await;
    assert!(
        client.recv_text().await.starts_with("tag-_____def:"),
        "shout falls to $default"
    );
    client.send_json(json!({"action": "yell"})).await;
    assert!(client.recv_text().await.starts_with("tag-___shout:"));

    std::fs::remove_file(gateway.plugins_dir().join("yell.wasm")).unwrap();
    gateway
        .wait_for_line(&["route unbound", "route=yell"])
        .await;
    client.send_json(json!({"action": "yell"})).await;
    assert!(client.recv_text().await.starts_with("tag-_____def:"));
}

#[tokio::test]
async fn swapping_connect_while_clients_connect_loses_no_handshake() {
    const BETWEEN_SWAPS: usize = 5;
    let gateway = tagger_gateway("$connect.wasm", "1", &[]);
    let url = gateway.url("/");
    let handshakes = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let connecting = {
        let (url, handshakes, done) = (url.clone(), Arc::clone(&handshakes), Arc::clone(&done));
        tokio::spawn(async move {
            let mut versions = Vec::new();
            while !done.load(Ordering::Acquire) {
                let mut client = Client::connect(&url).await;
                let welcome = client.recv_text().await;
                versions.push(version_of(welcome.trim_start_matches("welcome from ")));
                handshakes.fetch_add(1, Ordering::AcqRel);
                client.close(1000, "").await;
            }
            versions
        })
    };
    let some_handshakes = async || {
        let since = handshakes.load(Ordering::Acquire);
        reached("clients connect", &handshakes, since + BETWEEN_SWAPS).await;
    };
    for version in 2..=4 {
        some_handshakes().await;
        deploy(
            gateway.plugins_dir(),
            "$connect.wasm",
            &tagger_version(&version.to_string()),
        );
        swapped(&gateway, "$connect", version).await;
    }
    some_handshakes().await;
    done.store(true, Ordering::Release);
    let mut versions = connecting.await.expect("every handshake succeeded");
    assert!(
        versions.windows(2).all(|pair| pair[0] <= pair[1]),
        "{versions:?}"
    );
    versions.dedup();
    assert_eq!(versions, [1, 2, 3, 4], "each version welcomed clients");
    let last = Client::connect(&url).await.recv_text().await;
    assert_eq!(last, "welcome from tag-_______4");
}

#[tokio::test]
async fn swapping_disconnect_while_clients_leave_runs_each_disconnect_once() {
    const CLIENTS: usize = 60;
    let gateway = tagger_gateway("$disconnect.wasm", "1", &[]);
    let url = gateway.url("/");
    let clients: Vec<Client> = join_all((0..CLIENTS).map(|_| Client::connect(&url))).await;
    let left = Arc::new(AtomicUsize::new(0));
    let leaving = {
        let left = Arc::clone(&left);
        tokio::spawn(async move {
            for client in clients {
                client.close(1000, "bye").await;
                left.fetch_add(1, Ordering::AcqRel);
            }
        })
    };
    for (swap, version) in (2..=4).enumerate() {
        // A quarter of the clients more have left before each swap.
        reached("clients leave", &left, CLIENTS / 4 * (swap + 1)).await;
        deploy(
            gateway.plugins_dir(),
            "$disconnect.wasm",
            &tagger_version(&version.to_string()),
        );
        swapped(&gateway, "$disconnect", version).await;
    }
    leaving.await.unwrap();
    eventually("every $disconnect ran", WAIT, async || {
        let runs = gateway.logs().matches(" $disconnect ").count();
        if runs >= CLIENTS { Ok(()) } else { Err(runs) }
    })
    .await;
    // Long enough for a second run of some `$disconnect` to show.
    quiet(Duration::from_millis(300)).await;
    let logs = gateway.logs();
    let mut ids: Vec<&str> = logs
        .lines()
        .filter_map(|line| line.split(" $disconnect ").nth(1))
        .filter_map(|rest| rest.split_whitespace().next())
        .collect();
    let runs = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(
        (runs, ids.len()),
        (CLIENTS, CLIENTS),
        "each connection had exactly one $disconnect"
    );
}

#[tokio::test]
async fn a_half_written_file_is_never_loaded() {
    let gateway = tagger_gateway("$default.wasm", "1", &[]);
    let mut client = gateway.connect("/").await;
    // A slow copy: half the file, a pause in which the gateway reads it (and
    // refuses it), the rest.
    let version = tagger_version("2");
    let (head, tail) = version.split_at(version.len() / 2);
    let path = gateway.plugins_dir().join("$default.wasm");
    std::fs::write(&path, head).unwrap();
    gateway.wait_for_log("component refused").await;
    client.send_text("during").await;
    assert_eq!(client.recv_text().await, "tag-_______1:during");
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap();
    std::io::Write::write_all(&mut file, tail).unwrap();
    drop(file);
    swapped(&gateway, "$default", 2).await;
    client.send_text("after").await;
    assert_eq!(client.recv_text().await, "tag-_______2:after");
}

#[tokio::test]
async fn without_watching_only_sighup_reloads() {
    let gateway = tagger_gateway("$default.wasm", "1", &["--no-watch"]);
    let mut client = gateway.connect("/").await;
    deploy(gateway.plugins_dir(), "$default.wasm", &tagger_version("2"));
    // Several debounce periods, after which a watching gateway would have swapped.
    quiet(Duration::from_millis(700)).await;
    client.send_text("x").await;
    assert_eq!(client.recv_text().await, "tag-_______1:x");
    gateway.signal(libc::SIGHUP);
    swapped(&gateway, "$default", 2).await;
    client.send_text("y").await;
    assert_eq!(client.recv_text().await, "tag-_______2:y");
}

#[tokio::test]
async fn a_restart_with_a_warm_cache_does_not_compile() {
    let cache = tempfile::tempdir().unwrap();
    let cache_dir = cache.path().to_str().unwrap();
    let start = |label: &str| {
        let began = Instant::now();
        let gateway = GatewayBuilder::new()
            .component("$default.wasm", "chat")
            .args(&["--cache-dir", cache_dir])
            .start();
        let took = began.elapsed();
        eprintln!("{label} start-up: {took:?}");
        (gateway, took)
    };
    let (cold, cold_took) = start("cold cache");
    assert!(cold.logs().contains("origin=Compiled"), "{}", cold.logs());
    drop(cold);
    let (warm, warm_took) = start("warm cache");
    assert!(warm.logs().contains("origin=Cached"), "{}", warm.logs());
    assert!(!warm.logs().contains("origin=Compiled"));
    eprintln!(
        "the warm cache saved {:?}",
        cold_took.saturating_sub(warm_took)
    );
}

#[tokio::test]
async fn swaps_and_refusals_show_in_routes_metrics_and_the_access_log() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("access.log");
    let gateway = tagger_gateway(
        "$default.wasm",
        "1",
        &["--access-log", log.to_str().unwrap()],
    );
    let routes = |body: &str| -> serde_json::Value {
        let json = body.split("\r\n\r\n").nth(1).expect("a body");
        serde_json::from_str(json).expect("JSON")
    };
    let before = routes(&wsgate_tests::http_get(gateway.api_addr, "/@routes").await);
    let route = &before["routes"][0];
    assert_eq!(
        (route["routeKey"].as_str(), route["generation"].as_u64()),
        (Some("$default"), Some(1))
    );
    assert_eq!(route["component"], "$default.wasm");

    deploy(gateway.plugins_dir(), "$default.wasm", &tagger_version("2"));
    swapped(&gateway, "$default", 2).await;
    deploy(gateway.plugins_dir(), "$default.wasm", b"not wasm");
    gateway.wait_for_log("component refused").await;

    let after = routes(&wsgate_tests::http_get(gateway.api_addr, "/@routes").await);
    let route = &after["routes"][0];
    assert_eq!(
        route["generation"], 2,
        "the refused file did not replace version 2"
    );
    assert_ne!(route["version"], before["routes"][0]["version"]);

    let metrics = wsgate_tests::http_get(gateway.api_addr, "/metrics").await;
    assert!(
        metrics.contains("wsgate_plugin_swaps_total{route=\"$default\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("wsgate_plugin_refusals_total 1"),
        "{metrics}"
    );

    eventually("the access log has the swap", WAIT, async || {
        let lines = std::fs::read_to_string(&log).unwrap_or_default();
        let swap = "\"eventType\":\"SWAP\",\"routeKey\":\"$default\",\"change\":\"swapped\"";
        if lines.contains(swap) {
            Ok(())
        } else {
            Err(format!("\n{lines}"))
        }
    })
    .await;
}

#[tokio::test]
async fn a_plugins_directory_deleted_and_created_again_is_watched_anew() {
    let gateway = tagger_gateway("$default.wasm", "1", &[]);
    let mut client = gateway.connect("/").await;
    let dir = gateway.plugins_dir().to_path_buf();
    std::fs::remove_dir_all(&dir).unwrap();
    gateway
        .wait_for_log("cannot read the plugins directory")
        .await;
    // While it is gone, the route keeps its component.
    client.send_text("gone").await;
    assert_eq!(version_of(&client.recv_text().await), 1);

    std::fs::create_dir(&dir).unwrap();
    deploy(&dir, "$default.wasm", &tagger_version("2"));
    let version = || async {
        let mut probe = gateway.connect("/").await;
        probe.send_text("which").await;
        match version_of(&probe.recv_text().await) {
            2 => Ok(()),
            old => Err(format!("version {old}")),
        }
    };
    eventually("the new directory's component serves", WAIT, version).await;
    client.send_text("back").await;
    assert_eq!(version_of(&client.recv_text().await), 2);
}

#[tokio::test]
async fn wsgate_deploy_refuses_a_component_that_is_not_a_handler_and_leaves_the_directory_alone() {
    let gateway = tagger_gateway("$default.wasm", "1", &[]);
    let before = std::fs::read(gateway.plugins_dir().join("$default.wasm")).unwrap();
    for (bytes, problem) in [
        (b"not wasm at all".to_vec(), "not a WebAssembly file"),
        (
            std::fs::read(wsgate_tests::component("not-a-handler")).unwrap(),
            "does not export",
        ),
    ] {
        let (ok, said) = wsgate_deploy(gateway.plugins_dir(), "$default", &bytes);
        assert!(!ok && said.contains(problem), "{said}");
    }
    let (ok, said) = wsgate_deploy(gateway.plugins_dir(), "../escape", &tagger_version("2"));
    assert!(!ok && said.contains("cannot name a component"), "{said}");
    // A file the directory's `[routes]` would leave serving nothing.
    let bound = tempfile::tempdir().unwrap();
    std::fs::write(
        bound.path().join("wsgate.toml"),
        "[routes]\n\"$default\" = \"app.wasm\"\n",
    )
    .unwrap();
    let (ok, said) = wsgate_deploy(bound.path(), "$default", &tagger_version("2"));
    assert!(!ok && said.contains("would serve no route"), "{said}");
    assert!(!bound.path().join("$default.wasm").exists());
    // Nothing was written, not even a hidden partial file.
    let files: Vec<_> = std::fs::read_dir(gateway.plugins_dir())
        .unwrap()
        .map(|entry| entry.unwrap().file_name())
        .collect();
    assert_eq!(files, ["$default.wasm"]);
    assert_eq!(
        std::fs::read(gateway.plugins_dir().join("$default.wasm")).unwrap(),
        before
    );
    let mut client = gateway.connect("/").await;
    client.send_text("still").await;
    assert_eq!(client.recv_text().await, "tag-_______1:still");
}

#[tokio::test]
async fn a_version_replaced_while_it_compiles_is_superseded_by_the_newer_one() {
    // An empty compile cache: the Python component takes seconds to compile.
    let cache = tempfile::tempdir().unwrap();
    let gateway = tagger_gateway(
        "$default.wasm",
        "1",
        &["--cache-dir", cache.path().to_str().unwrap()],
    );
    let slow = std::fs::read(wsgate_tests::component("python-calc")).unwrap();
    deploy(gateway.plugins_dir(), "$default.wasm", &slow);
    gateway
        .wait_for_line(&["change seen", "$default.wasm"])
        .await;
    let size = format!("bytes={}", slow.len());
    gateway
        .wait_for_line(&[
            "compiling: not in the compile cache",
            "$default.wasm",
            &size,
        ])
        .await;
    // Replaced while the Python one compiles.
    deploy(gateway.plugins_dir(), "$default.wasm", &tagger_version("3"));
    // Once the Python one is compiled: seconds, more on a busy machine.
    gateway
        .wait_for_line_within(&["superseded", "$default.wasm"], STARTUP)
        .await;
    swapped(&gateway, "$default", 2).await;
    let mut client = gateway.connect("/").await;
    client.send_text("next").await;
    assert_eq!(client.recv_text().await, "tag-_______3:next");
    // The superseded version was never swapped in.
    assert!(
        !gateway.logs().contains("generation=3"),
        "{}",
        gateway.logs()
    );
}

#[tokio::test]
async fn a_reload_does_not_start_another_by_reading_the_files() {
    // A cache directory beside the plugins directory (both temporary
    // directories), in the watched parent.
    let cache = tempfile::tempdir().unwrap();
    let gateway = tagger_gateway(
        "$default.wasm",
        "1",
        &["--cache-dir", cache.path().to_str().unwrap()],
    );
    deploy(gateway.plugins_dir(), "$default.wasm", &tagger_version("2"));
    swapped(&gateway, "$default", 2).await;
    // Every reload reads the directory and the files: were those reads
    // events, each reload would start the next.
    quiet(Duration::from_secs(1)).await;
    let logs = gateway.logs();
    assert_eq!(logs.matches("reloading").count(), 1, "{logs}");
    let mut client = gateway.connect("/").await;
    client.send_text("once").await;
    assert_eq!(client.recv_text().await, "tag-_______2:once");
}

#[tokio::test]
async fn wsgate_deploy_compiles_into_the_cache_the_gateway_reads_so_the_swap_does_not_compile() {
    // The cache directory named only in the plugins directory's wsgate.toml:
    // the gateway and `wsgate deploy` both read it there.
    let cache = tempfile::tempdir().unwrap();
    let gateway = GatewayBuilder::new()
        .file("$default.wasm", &tagger_version("1"))
        .config(&format!("cache_dir = {:?}\n", cache.path()))
        .start();
    let (ok, said) = wsgate_deploy(gateway.plugins_dir(), "$default", &tagger_version("2"));
    assert!(ok, "{said}");
    swapped(&gateway, "$default", 2).await;
    gateway
        .wait_for_line(&["route swapped", "generation=2", "origin=Cached"])
        .await;
    let mut client = gateway.connect("/").await;
    client.send_text("cached").await;
    assert_eq!(client.recv_text().await, "tag-_______2:cached");
}
