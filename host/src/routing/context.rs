//! The request context of each event the router starts: shared, copied or
//! read from the connection, nothing of it allocated (see [`RequestContext`]).

use std::sync::Arc;

use super::{NO_ROUTE, Route, Router};
use crate::connection::{Connection, EventToken};
use crate::event::{EventType, RequestContext, RouteKey};

impl Router {
    /// The context of a message of `connection` that `route` takes (none: no
    /// route does).
    pub(super) fn message_context(
        &self,
        connection: &Arc<Connection>,
        route: Option<&Route>,
        received_at: u64,
    ) -> RequestContext {
        let route_key = route.map_or(NO_ROUTE, |route| route.key);
        let message_id = Some(EventToken::new());
        self.context(
            connection,
            route_key,
            EventType::Message,
            message_id,
            received_at,
        )
    }

    /// The context of an event of `connection`.
    pub(super) fn context(
        &self,
        connection: &Arc<Connection>,
        route_key: RouteKey,
        event_type: EventType,
        message_id: Option<EventToken>,
        request_time: u64,
    ) -> RequestContext {
        RequestContext {
            route_key,
            event_type,
            connection: Arc::clone(connection),
            message_id,
            request_id: EventToken::new(),
            request_time,
            stage: self.stage,
        }
    }
}
