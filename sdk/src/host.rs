//! The one place the SDK reaches the gateway.
//!
//! In a component (`wasm32`) every call goes to the WIT imports
//! (`host/wit.rs`). On any other target the imports cannot work (the
//! generated ones panic), so every call goes to the in-memory gateway of
//! `crate::testing` instead (`testing/fake.rs`): a handler's unit tests then
//! run natively, on the same handler code.
//!
//! Both halves offer the same functions, grouped by interface and in the
//! SDK's own types, so the public modules (`connections`, `groups`, `kv`,
//! `config`, `http`) call `host::…` and never see which half answers.

#[cfg(target_arch = "wasm32")]
mod wit;
#[cfg(target_arch = "wasm32")]
pub(crate) use wit::{config, connections, groups, http, kv};

#[cfg(not(target_arch = "wasm32"))]
pub(crate) use crate::testing::fake::{config, connections, groups, http, kv};
