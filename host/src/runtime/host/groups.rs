//! `wsgate:gateway/groups`: named sets of connections, and broadcast.

use wasmtime::component::HasData;

use crate::connection::ConnectionId;
use crate::event::Payload;
use crate::registry::Registry;
use crate::runtime::bindings::{groups, types};

/// What `groups` sees of a handler's store: the registry.
pub(crate) struct GroupsView<'a> {
    /// Every connection and group, local or clustered.
    pub(crate) registry: &'a dyn Registry,
}

/// Links `groups` to a [`GroupsView`] of the store.
pub(crate) struct Groups;

impl HasData for Groups {
    type Data<'a> = GroupsView<'a>;
}

impl groups::Host for GroupsView<'_> {
    async fn join(&mut self, group: String, id: String) -> Result<(), types::SendError> {
        Ok(self.registry.join(&group, &ConnectionId::from(id)).await?)
    }

    async fn leave(&mut self, group: String, id: String) {
        self.registry.leave(&group, &ConnectionId::from(id)).await
    }

    async fn send(
        &mut self,
        group: String,
        message: types::Payload,
        exclude: Option<String>,
    ) -> Result<(), types::SendError> {
        let exclude = exclude.map(ConnectionId::from);
        let message = Payload::from(message).into();
        Ok(self
            .registry
            .send_to_group(&group, message, exclude.as_ref())
            .await?)
    }

    async fn broadcast(
        &mut self,
        message: types::Payload,
        exclude: Option<String>,
    ) -> Result<(), types::SendError> {
        let exclude = exclude.map(ConnectionId::from);
        let message = Payload::from(message).into();
        Ok(self.registry.broadcast(message, exclude.as_ref()).await?)
    }

    async fn members(&mut self, group: String, cursor: Option<String>, limit: u32) -> types::Page {
        self.registry
            .members(&group, cursor.as_deref(), limit)
            .await
            .into()
    }
}
