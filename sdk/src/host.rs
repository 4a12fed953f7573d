//! The one place the SDK reaches the gateway: the WIT imports
//! (`host/wit.rs`), grouped by interface and in the SDK's own types, so the
//! public modules (`connections`, `groups`, `kv`, `config`, `http`) call
//! `host::…` and never the generated bindings.

mod wit;
pub(crate) use wit::{config, connections, groups, http, kv};
