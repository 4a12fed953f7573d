//! `wsgate:gateway/groups`: named sets of connections, and broadcast.
//! Both versions of the world declare it alike; each gets the same impl.

use wasmtime::component::HasData;

use crate::connection::{ConnectionId, SendError};
use crate::event::Payload;
use crate::observability::extensions::ExtensionNotices;
use crate::registry::{Page, Registry};
use crate::runtime::guest_log::LogTags;

/// The extension names in `--compat aws` warnings.
const GROUPS: &str = "the groups interface";
const BROADCAST: &str = "broadcast";

/// What `groups` sees of a handler's store: the registry, and where its use
/// is reported under `--compat aws` (groups are wsgate's, not API Gateway's).
pub(crate) struct GroupsView<'a> {
    /// Every connection and group, local or clustered.
    pub(crate) registry: &'a dyn Registry,
    /// Where a use of groups is reported; none: not reported.
    pub(crate) notices: Option<&'a ExtensionNotices>,
    /// The route being handled, which the report names.
    pub(crate) log_tags: &'a LogTags,
}

/// Links `groups` to a [`GroupsView`] of the store.
pub(crate) struct Groups;

impl HasData for Groups {
    type Data<'a> = GroupsView<'a>;
}

impl GroupsView<'_> {
    /// Reports a use of `extension` by the route being handled.
    fn report(&self, extension: &'static str) {
        if let Some(notices) = self.notices {
            self.log_tags
                .with_route(|route| notices.used(route, extension));
        }
    }

    async fn join(&self, group: String, id: String) -> Result<(), SendError> {
        self.report(GROUPS);
        self.registry.join(&group, &ConnectionId::from(id)).await
    }

    async fn leave(&self, group: String, id: String) {
        self.report(GROUPS);
        self.registry.leave(&group, &ConnectionId::from(id)).await
    }

    async fn send(
        &self,
        group: String,
        message: Payload,
        exclude: Option<String>,
    ) -> Result<(), SendError> {
        self.report(GROUPS);
        let exclude = exclude.map(ConnectionId::from);
        self.registry
            .send_to_group(&group, message.into(), exclude.as_ref())
            .await
    }

    async fn broadcast(&self, message: Payload, exclude: Option<String>) -> Result<(), SendError> {
        self.report(BROADCAST);
        let exclude = exclude.map(ConnectionId::from);
        self.registry
            .broadcast(message.into(), exclude.as_ref())
            .await
    }

    async fn members(&self, group: String, cursor: Option<String>, limit: u32) -> Page {
        self.report(GROUPS);
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
