//! Smoke test: the whole suite with tiny parameters (`run --quick`) against
//! the debug gateway, so the harness does not rot. It checks that every
//! scenario prints its result lines, never how fast anything was.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long the quick run may take before it counts as hung.
const LIMIT: Duration = Duration::from_secs(300);

#[test]
fn quick_run_prints_a_result_line_per_scenario() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_wsgate-bench"))
        .args(["run", "--quick"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start wsgate-bench");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for wsgate-bench") {
            break status;
        }
        if started.elapsed() > LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("wsgate-bench run --quick did not finish within {LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let mut output = String::new();
    child
        .stdout
        .take()
        .expect("piped stdout")
        .read_to_string(&mut output)
        .expect("read the results");
    println!("{output}");
    assert!(status.success(), "wsgate-bench failed:\n{output}");
    for prefix in [
        "echo conns=10 depth=1 ",
        "echo conns=10 depth=8 ",
        "routing conns=10 depth=1 ",
        "handler pooled instance + call",
        "handler instantiate + call",
        "handler access log line ",
        "idle conns=200 ",
        "fanout members=100 ",
        "startup plugins=2 cold",
        "cluster send same-node ",
        "cluster send cross-node ",
        "cluster hold conns=300 ",
        "reliable conns=10 depth=1 ",
        "reliable resume rounds=10 ",
    ] {
        assert!(
            output.lines().any(|line| line.starts_with(prefix)),
            "no `{prefix}…` line in:\n{output}"
        );
    }
    // Ping-pong compares both configurations; pipelined, only the one
    // without the rate limit.
    for (lines, contender) in [
        ("echo conns=10 depth=1 ", "| defaults ÷ baseline: "),
        ("echo ", "| log-off ÷ baseline: "),
    ] {
        assert!(
            output
                .lines()
                .filter(|line| line.starts_with(lines))
                .all(|line| line.contains(contender)),
            "a `{lines}…` line without `{contender}…` in:\n{output}"
        );
    }
}
