//! `wsgate:gateway/event` (0.2.0): the event a handler is called for, read
//! on demand.
//!
//! The plugin pushes the event's [`RequestContext`] (and a `$connect`'s
//! [`ConnectRequest`]) into the store's resource table for one call and lends
//! them to the guest as `borrow` handles; each getter here reads one field
//! and lowers only that. The component model itself refuses a handle kept
//! past its call, so a handle that is not in the table is a host bug, turned
//! into a trap rather than a panic.

use wasmtime::component::{HasData, Resource, ResourceTable};

use crate::connection::Fields;
use crate::event::{ConnectRequest, RequestContext};
use crate::runtime::bindings::v0_2::resources::{Host, HostConnectRequest, HostRequestContext};

/// What `event` sees of a handler's store: the resource table holding the
/// event of the call in progress.
pub(crate) struct EventView<'a> {
    /// Where the plugin put the lent resources.
    pub(crate) table: &'a mut ResourceTable,
}

/// Links `event` to an [`EventView`] of the store.
pub(crate) struct EventResources;

impl HasData for EventResources {
    type Data<'a> = EventView<'a>;
}

impl EventView<'_> {
    fn context(&self, handle: &Resource<RequestContext>) -> wasmtime::Result<&RequestContext> {
        Ok(self.table.get(handle)?)
    }

    fn request(&self, handle: &Resource<ConnectRequest>) -> wasmtime::Result<&ConnectRequest> {
        Ok(self.table.get(handle)?)
    }
}

impl Host for EventView<'_> {}

impl HostRequestContext for EventView<'_> {
    async fn route_key(&mut self, ctx: Resource<RequestContext>) -> wasmtime::Result<String> {
        Ok(self.context(&ctx)?.route_key.to_string())
    }

    async fn connection_id(&mut self, ctx: Resource<RequestContext>) -> wasmtime::Result<String> {
        Ok(self.context(&ctx)?.connection_id().to_string())
    }

    async fn request_id(&mut self, ctx: Resource<RequestContext>) -> wasmtime::Result<String> {
        Ok(self.context(&ctx)?.request_id.to_string())
    }

    async fn message_id(
        &mut self,
        ctx: Resource<RequestContext>,
    ) -> wasmtime::Result<Option<String>> {
        Ok(self.context(&ctx)?.message_id.map(|id| id.to_string()))
    }

    async fn connected_at(&mut self, ctx: Resource<RequestContext>) -> wasmtime::Result<u64> {
        Ok(self.context(&ctx)?.connected_at())
    }

    async fn request_time_epoch(&mut self, ctx: Resource<RequestContext>) -> wasmtime::Result<u64> {
        Ok(self.context(&ctx)?.request_time)
    }

    async fn source_ip(&mut self, ctx: Resource<RequestContext>) -> wasmtime::Result<String> {
        Ok(self.context(&ctx)?.peer().source_ip.clone())
    }

    async fn user_agent(&mut self, ctx: Resource<RequestContext>) -> wasmtime::Result<String> {
        Ok(self.context(&ctx)?.peer().user_agent.clone())
    }

    async fn domain_name(&mut self, ctx: Resource<RequestContext>) -> wasmtime::Result<String> {
        Ok(self.context(&ctx)?.peer().domain_name.clone())
    }

    async fn stage(&mut self, ctx: Resource<RequestContext>) -> wasmtime::Result<String> {
        Ok(self.context(&ctx)?.stage.to_string())
    }

    async fn connection_context_value(
        &mut self,
        ctx: Resource<RequestContext>,
        key: String,
    ) -> wasmtime::Result<Option<String>> {
        Ok(first(self.context(&ctx)?.connection_context(), |name| {
            name == key
        }))
    }

    async fn connection_context(
        &mut self,
        ctx: Resource<RequestContext>,
    ) -> wasmtime::Result<Fields> {
        Ok(self.context(&ctx)?.connection_context().to_vec())
    }

    async fn drop(&mut self, ctx: Resource<RequestContext>) -> wasmtime::Result<()> {
        // Only reached for an owned handle, which the gateway never gives out.
        self.table.delete(ctx)?;
        Ok(())
    }
}

impl HostConnectRequest for EventView<'_> {
    async fn method(&mut self, request: Resource<ConnectRequest>) -> wasmtime::Result<String> {
        Ok(self.request(&request)?.method.clone())
    }

    async fn path(&mut self, request: Resource<ConnectRequest>) -> wasmtime::Result<String> {
        Ok(self.request(&request)?.path.clone())
    }

    async fn header(
        &mut self,
        request: Resource<ConnectRequest>,
        name: String,
    ) -> wasmtime::Result<Option<String>> {
        let headers = &self.request(&request)?.headers;
        Ok(first(headers, |found| found.eq_ignore_ascii_case(&name)))
    }

    async fn headers(&mut self, request: Resource<ConnectRequest>) -> wasmtime::Result<Fields> {
        Ok(self.request(&request)?.headers.clone())
    }

    async fn query_param(
        &mut self,
        request: Resource<ConnectRequest>,
        name: String,
    ) -> wasmtime::Result<Option<String>> {
        Ok(first(&self.request(&request)?.query, |found| found == name))
    }

    async fn query_params(
        &mut self,
        request: Resource<ConnectRequest>,
    ) -> wasmtime::Result<Fields> {
        Ok(self.request(&request)?.query.clone())
    }

    async fn offered_subprotocols(
        &mut self,
        request: Resource<ConnectRequest>,
    ) -> wasmtime::Result<Vec<String>> {
        Ok(self.request(&request)?.subprotocols.clone())
    }

    async fn drop(&mut self, request: Resource<ConnectRequest>) -> wasmtime::Result<()> {
        // Only reached for an owned handle, which the gateway never gives out.
        self.table.delete(request)?;
        Ok(())
    }
}

/// The value of the first pair whose name `matches`.
fn first(fields: &[(String, String)], matches: impl Fn(&str) -> bool) -> Option<String> {
    fields
        .iter()
        .find(|(name, _)| matches(name))
        .map(|(_, value)| value.clone())
}
