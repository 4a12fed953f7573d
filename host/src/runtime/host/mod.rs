//! The host side of the WIT imports a route handler can call, one module per
//! interface (serving both versions of the world where both declare it).
//! Each implements its interface on a view holding only its slice of the store (in the manner of wasmtime's `WasiCtxView`), and names a
//! [`HasData`] marker the linker wires it with. `connections` and `groups`
//! reach connections only through the [`Registry`]; [`http`] reaches only the
//! hosts a route allows.
//!
//! [`Registry`]: crate::registry::Registry

mod connections;
mod event;
mod groups;
pub mod http;
mod keyvalue;

use wasmtime::component::HasData;

pub(crate) use connections::{Connections, ConnectionsView};
pub(crate) use event::{EventResources, EventView};
pub(crate) use groups::{Groups, GroupsView};
pub(crate) use keyvalue::{KeyValue, KeyValueView};

/// Links `wsgate:gateway/types` (of either version), which declares types
/// only and so sees nothing of the store.
pub(crate) struct Types;

impl HasData for Types {
    type Data<'a> = Types;
}

impl crate::runtime::bindings::v0_1::types::Host for Types {}

impl crate::runtime::bindings::v0_2::types::Host for Types {}
