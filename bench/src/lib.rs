//! wsgate's benchmark suite, run with `cargo xtask bench` (see `BENCHMARKS.md`).
//!
//! Every network scenario runs the real `wsgate` binary and a no-gateway
//! [`baseline`] server side by side, as separate processes, and drives
//! both with the same [`load`] generator, so each result is a ratio measured
//! in one invocation on the same (noisy) machine.
//!
//! - [`client`]: opening many WebSocket connections from chosen source
//!   addresses (127.0.0.2, 127.0.0.3, …), and holding them idle;
//! - [`load`]: closed-loop (pipeline depth) or fixed-rate load on many
//!   connections, with latencies in a histogram;
//! - [`latency`]: the histogram summaries printed in result lines;
//! - [`reliable`]: the client side of the gateway's reliable subprotocol;
//! - [`baseline`]: the plain tokio-tungstenite servers: the lean echo, and
//!   the echo that also broadcasts, for fan-out;
//! - [`server`]: starting the gateway (in a chosen configuration) and the
//!   baselines as processes, reading their memory use;
//! - [`scenarios`]: the six scenarios of the benchmark issue, each printing
//!   result lines.

pub mod baseline;
pub mod client;
pub mod latency;
pub mod load;
pub mod reliable;
pub mod scenarios;
pub mod server;
