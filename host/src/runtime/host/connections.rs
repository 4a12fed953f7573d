//! `wsgate:gateway/connections`: send to, close and inspect any connection.

use wasmtime::component::HasData;

use crate::connection::{CloseInitiator, ConnectionId};
use crate::event::Payload;
use crate::registry::Registry;
use crate::runtime::bindings::{connections, types};

/// What `connections` sees of a handler's store: the registry.
pub(crate) struct ConnectionsView<'a> {
    /// Every connection, local or clustered.
    pub(crate) registry: &'a dyn Registry,
}

/// Links `connections` to a [`ConnectionsView`] of the store.
pub(crate) struct Connections;

impl HasData for Connections {
    type Data<'a> = ConnectionsView<'a>;
}

impl connections::Host for ConnectionsView<'_> {
    async fn send(&mut self, id: String, message: types::Payload) -> Result<(), types::SendError> {
        let message = Payload::from(message).into();
        Ok(self.registry.send(&ConnectionId::from(id), message).await?)
    }

    async fn close(
        &mut self,
        id: String,
        code: u16,
        reason: String,
    ) -> Result<(), types::SendError> {
        let code = application_close_code(code);
        Ok(self
            .registry
            .close(
                &ConnectionId::from(id),
                code,
                &reason,
                CloseInitiator::Handler,
            )
            .await?)
    }

    async fn info(&mut self, id: String) -> Result<types::ConnectionInfo, types::SendError> {
        Ok(self.registry.info(&ConnectionId::from(id)).await?.into())
    }
}

/// The close code a handler may send: 1000 or an application code (3000-4999);
/// anything else becomes 1000 rather than an invalid frame.
fn application_close_code(code: u16) -> u16 {
    match code {
        1000 | 3000..=4999 => code,
        _ => 1000,
    }
}
