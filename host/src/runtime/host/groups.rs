//! `wsgate:gateway/groups`: named sets of connections, and broadcast.

use crate::connection::ConnectionId;
use crate::event::Payload;
use crate::runtime::HostState;
use crate::runtime::bindings::{groups, types};

impl groups::Host for HostState {
    async fn join(&mut self, group: String, id: String) -> Result<(), types::SendError> {
        Ok(self
            .registry()
            .join(&group, &ConnectionId::from(id))
            .await?)
    }

    async fn leave(&mut self, group: String, id: String) {
        self.registry().leave(&group, &ConnectionId::from(id)).await
    }

    async fn send(
        &mut self,
        group: String,
        message: types::Payload,
        exclude: Option<String>,
    ) -> Result<(), types::SendError> {
        let exclude = exclude.map(ConnectionId::from);
        let message = Payload::from(message).into();
        let registry = self.registry();
        Ok(registry
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
        Ok(self.registry().broadcast(message, exclude.as_ref()).await?)
    }

    async fn members(&mut self, group: String, cursor: Option<String>, limit: u32) -> types::Page {
        self.registry()
            .members(&group, cursor.as_deref(), limit)
            .await
            .into()
    }
}
