//! Churn: several hundred clients with seeded random behaviours (see
//! `wsgate_tests::churn`), after which nothing of them is left and every one
//! `$connect` accepted ended exactly once. `cargo xtask soak --minutes N` runs
//! the same rounds for N minutes (`WSGATE_SOAK_MINUTES`).

use std::time::Duration;

use wsgate_tests::churn::churn;

/// Clients per round.
const CLIENTS: usize = 300;

/// How long to keep churning: one round, unless a soak asks for minutes.
fn soak() -> Duration {
    let minutes = std::env::var("WSGATE_SOAK_MINUTES")
        .ok()
        .and_then(|minutes| minutes.parse::<u64>().ok())
        .unwrap_or(0);
    Duration::from_secs(60 * minutes)
}

#[tokio::test]
async fn churn_against_the_probe_leaves_nothing_behind() {
    churn(false, CLIENTS, soak()).await;
}

#[tokio::test]
async fn churn_against_the_chat_example_leaves_nothing_behind() {
    churn(true, CLIENTS, soak()).await;
}
