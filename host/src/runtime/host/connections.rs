//! `wsgate:gateway/connections`: send to, close and inspect any connection.
//! Both versions of the world declare it alike; each gets the same impl.

use wasmtime::component::HasData;

use crate::connection::{CloseInitiator, ConnectionId, SendError};
use crate::event::Payload;
use crate::registry::{ConnectionInfo, Registry};

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

impl ConnectionsView<'_> {
    async fn send(&self, id: String, message: Payload) -> Result<(), SendError> {
        self.registry
            .send(&ConnectionId::from(id), message.into())
            .await
    }

    async fn close(&self, id: String, code: u16, reason: String) -> Result<(), SendError> {
        let code = application_close_code(code);
        let id = ConnectionId::from(id);
        self.registry
            .close(&id, code, &reason, CloseInitiator::Handler)
            .await
    }

    async fn info(&self, id: String) -> Result<ConnectionInfo, SendError> {
        self.registry.info(&ConnectionId::from(id)).await
    }
}

/// `connections::Host` of one version of the world, onto [`ConnectionsView`].
macro_rules! connections_host {
    ($version:ident) => {
        use crate::runtime::bindings::$version;

        impl $version::connections::Host for ConnectionsView<'_> {
            async fn send(
                &mut self,
                id: String,
                message: $version::types::Payload,
            ) -> Result<(), $version::types::SendError> {
                Ok(ConnectionsView::send(self, id, message.into()).await?)
            }

            async fn close(
                &mut self,
                id: String,
                code: u16,
                reason: String,
            ) -> Result<(), $version::types::SendError> {
                Ok(ConnectionsView::close(self, id, code, reason).await?)
            }

            async fn info(
                &mut self,
                id: String,
            ) -> Result<$version::types::ConnectionInfo, $version::types::SendError> {
                Ok(ConnectionsView::info(self, id).await?.into())
            }
        }
    };
}

mod v0_1_host {
    use super::ConnectionsView;
    connections_host!(v0_1);
}

mod v0_2_host {
    use super::ConnectionsView;
    connections_host!(v0_2);
}

/// The close code a handler may send: 1000 or an application code (3000-4999);
/// anything else becomes 1000 rather than an invalid frame.
fn application_close_code(code: u16) -> u16 {
    match code {
        1000 | 3000..=4999 => code,
        _ => 1000,
    }
}
