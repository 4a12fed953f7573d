//! The plugin runtime: compiling route handler components, binding them to
//! routes, and running events through them in a sandbox.
//!
//! - [`engine`]: the engine and linker shared by every component;
//! - [`plugin`]: one component and its pool of ready instances;
//! - [`sandbox`]: CPU deadline and memory cap per call;
//! - [`memory`]: the memory budget all instances share;
//! - [`host`]: the imports a handler calls, one module per WIT interface, each
//!   seeing only its view of the store's state;
//! - [`grants`]: a route's configuration values and outbound HTTP policy;
//! - [`check`]: validation with errors in plain words;
//! - [`compile_cache`]: compiled components on disk, by content hash;
//! - [`directory`]: which file serves which route;
//! - [`bindings`]: the code generated from `wit/`, kept in one place.

pub mod bindings;
pub mod check;
pub mod compile_cache;
pub mod directory;
mod engine;
pub mod grants;
mod guest_log;
pub mod host;
pub mod memory;
mod plugin;
pub mod sandbox;
mod state;

pub use check::{PluginError, Problem};
pub use compile_cache::Origin;
pub use engine::PluginRuntime;
pub use grants::RouteGrants;
pub(crate) use guest_log::LogTags;
pub use plugin::{Failure, FailureKind, HandlerError, Plugin, PluginInfo};
pub use sandbox::Sandbox;
pub use state::{HostState, Services};
