//! The host side of the WIT imports a route handler can call, one module per
//! interface. Each reaches connections only through the [`Registry`];
//! [`http`] reaches only the hosts a route allows.
//!
//! [`Registry`]: crate::registry::Registry

mod connections;
mod groups;
pub mod http;
mod keyvalue;

use crate::runtime::HostState;
use crate::runtime::bindings::types;

impl types::Host for HostState {}
