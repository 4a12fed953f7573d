//! The bindings generated from `wit/`, one module per version of the
//! `wsgate:gateway` world the gateway serves, and the conversions between
//! them and the host's own types. Generated code stays in this module.
//!
//! - [`v0_2`]: `wsgate:gateway@0.2.0` (`wit/`): the event is lent to the
//!   handler as resources and read on demand.
//! - [`v0_1`]: `wsgate:gateway@0.1.0` (`wit/v0.1/`, frozen): the event is one
//!   record, lowered whole into every call.
//!
//! The two versions' `types` declare the same payload, error, info and page
//! types under the same names; [`shared_conversions!`] gives each version the
//! same conversions from one definition.

/// Which version of the `wsgate:gateway` world a component is built against.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum World {
    /// `wsgate:gateway@0.1.0`: one `handle(event)` export.
    V0_1,
    /// `wsgate:gateway@0.2.0`: `on-connect`, `on-message`, `on-disconnect`.
    V0_2,
}

impl World {
    /// Every version served, newest first: the order a component's exports
    /// are matched in.
    pub const ALL: [World; 2] = [World::V0_2, World::V0_1];

    /// The package, e.g. `wsgate:gateway@0.2.0`.
    pub fn as_str(self) -> &'static str {
        match self {
            World::V0_1 => "wsgate:gateway@0.1.0",
            World::V0_2 => "wsgate:gateway@0.2.0",
        }
    }

    /// The fully qualified name of the interface a route handler of this
    /// version exports.
    pub fn handler_export(self) -> &'static str {
        match self {
            World::V0_1 => "wsgate:gateway/handler@0.1.0",
            World::V0_2 => "wsgate:gateway/handler@0.2.0",
        }
    }
}

impl std::fmt::Display for World {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The conversions between the host's types and the generated `types` in
/// scope where it is invoked, whose shape both versions share.
macro_rules! shared_conversions {
    () => {
        use crate::connection::{CloseInitiator, SendError};
        use crate::event;
        use crate::registry::{ConnectionInfo, Page};

        impl From<types::Payload> for event::Payload {
            fn from(payload: types::Payload) -> Self {
                match payload {
                    types::Payload::Text(text) => event::Payload::Text(text.into()),
                    types::Payload::Binary(bytes) => event::Payload::Binary(bytes.into()),
                }
            }
        }

        impl From<CloseInitiator> for types::CloseInitiator {
            fn from(initiator: CloseInitiator) -> Self {
                use CloseInitiator as C;
                match initiator {
                    C::Client => Self::Client,
                    C::Handler => Self::Handler,
                    C::Api => Self::Api,
                    C::Server => Self::Server,
                    C::IdleTimeout => Self::IdleTimeout,
                    C::PingTimeout => Self::PingTimeout,
                    C::MaxDuration => Self::MaxDuration,
                    C::Shutdown => Self::Shutdown,
                }
            }
        }

        impl From<SendError> for types::SendError {
            fn from(error: SendError) -> Self {
                match error {
                    SendError::Gone => Self::Gone,
                    SendError::PayloadTooLarge => Self::PayloadTooLarge,
                    SendError::Throttled => Self::Throttled,
                    SendError::Unavailable => Self::Unavailable,
                }
            }
        }

        impl From<ConnectionInfo> for types::ConnectionInfo {
            fn from(info: ConnectionInfo) -> Self {
                types::ConnectionInfo {
                    connection_id: info.id.to_string(),
                    connected_at: info.connected_at,
                    last_active_at: info.last_active_at,
                    source_ip: info.source_ip,
                    user_agent: info.user_agent,
                    context: info.context,
                }
            }
        }

        impl From<Page> for types::Page {
            fn from(page: Page) -> Self {
                types::Page {
                    ids: page.ids.iter().map(ToString::to_string).collect(),
                    next_cursor: page.next_cursor,
                }
            }
        }
    };
}

pub mod v0_1;
pub mod v0_2;

pub use v0_2::keyvalue;
