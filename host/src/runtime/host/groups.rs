//! `wsgate:gateway/groups`: named sets of connections, and broadcast.
//! Both versions of the world declare it alike; each gets the same impl.

use wasmtime::component::HasData;

use crate::connection::{ConnectionId, SendError};
use crate::event::Payload;
use crate::registry::{Page, Registry};

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

impl GroupsView<'_> {
    async fn join(&self, group: String, id: String) -> Result<(), SendError> {
        self.registry.join(&group, &ConnectionId::from(id)).await
    }

    async fn leave(&self, group: String, id: String) {
        self.registry.leave(&group, &ConnectionId::from(id)).await
    }

    async fn send(
        &self,
        group: String,
        message: Payload,
        exclude: Option<String>,
    ) -> Result<(), SendError> {
        let exclude = exclude.map(ConnectionId::from);
        self.registry
            .send_to_group(&group, message.into(), exclude.as_ref())
            .await
    }

    async fn broadcast(&self, message: Payload, exclude: Option<String>) -> Result<(), SendError> {
        let exclude = exclude.map(ConnectionId::from);
        self.registry
            .broadcast(message.into(), exclude.as_ref())
            .await
    }

    async fn members(&self, group: String, cursor: Option<String>, limit: u32) -> Page {
        self.registry
            .members(&group, cursor.as_deref(), limit)
            .await
    }
}

/// `groups::Host` of one version of the world, onto [`GroupsView`].
macro_rules! groups_host {
    ($version:ident) => {
        use crate::runtime::bindings::$version;
        use $version::types;

        impl $version::groups::Host for GroupsView<'_> {
            async fn join(&mut self, group: String, id: String) -> Result<(), types::SendError> {
                Ok(GroupsView::join(self, group, id).await?)
            }

            async fn leave(&mut self, group: String, id: String) {
                GroupsView::leave(self, group, id).await
            }

            async fn send(
                &mut self,
                group: String,
                message: types::Payload,
                exclude: Option<String>,
            ) -> Result<(), types::SendError> {
                Ok(GroupsView::send(self, group, message.into(), exclude).await?)
            }

            async fn broadcast(
                &mut self,
                message: types::Payload,
                exclude: Option<String>,
            ) -> Result<(), types::SendError> {
                Ok(GroupsView::broadcast(self, message.into(), exclude).await?)
            }

            async fn members(
                &mut self,
                group: String,
                cursor: Option<String>,
                limit: u32,
            ) -> types::Page {
                GroupsView::members(self, group, cursor, limit).await.into()
            }
        }
    };
}

mod v0_1_host {
    use super::GroupsView;
    groups_host!(v0_1);
}

mod v0_2_host {
    use super::GroupsView;
    groups_host!(v0_2);
}
