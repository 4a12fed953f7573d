//! The client listener, from an accepted socket to a connection's end: TCP
//! and TLS ([`listener`], [`tls`]), the probes served beside upgrades
//! ([`probes`]), who may connect ([`admission`]), the upgrade and `$connect`
//! ([`handshake`]), the connection's one task ([`task`]) and the graceful
//! drain ([`shutdown`]).

pub mod admission;
pub mod handshake;
pub mod listener;
pub mod probes;
pub mod shutdown;
pub mod task;
pub mod tls;
