//! What one node asks another to do with its connections: the messages on the
//! nodes' inbox channels, and how the receiving node carries them out.
//!
//! Every delivery for a connection goes through the inbox of the node that
//! holds it, and a node handles its inbox one delivery at a time, so
//! deliveries issued one after another reach a connection in that order. A
//! request for one connection carries an [`Ask`]: the owner answers it with
//! a [`Delivery::Reply`] on the caller's inbox.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use tokio_tungstenite::tungstenite::Message;

use super::ClusterRegistry;
use crate::connection::{CloseInitiator, ConnectionId, Fields, SendError};
use crate::registry::{ConnectionInfo, Registry};

/// A message to a client, as it crosses Redis.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Frame {
    /// A text frame.
    Text(String),
    /// A binary frame, base64-encoded.
    Binary(String),
}

impl Frame {
    /// The frame of a text or binary message; none for control frames, which
    /// the registry never carries.
    pub fn of(message: &Message) -> Option<Frame> {
        match message {
            Message::Text(text) => Some(Frame::Text(text.as_str().to_owned())),
            Message::Binary(bytes) => Some(Frame::Binary(STANDARD.encode(bytes))),
            _ => None,
        }
    }

    /// The message it carries; none for binary that is not base64.
    pub fn message(self) -> Option<Message> {
        match self {
            Frame::Text(text) => Some(Message::text(text)),
            Frame::Binary(encoded) => STANDARD.decode(encoded).ok().map(Message::binary),
        }
    }
}

/// One message on a node's inbox (or, for broadcasts and notices, on every
/// node's).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "camelCase")]
pub enum Delivery {
    /// Queue a message for a connection.
    Send {
        /// The connection.
        id: String,
        /// The message.
        frame: Frame,
    },
    /// Close a connection.
    Close {
        /// The connection.
        id: String,
        /// The close code.
        code: u16,
        /// The close reason.
        reason: String,
        /// Whether a handler (else the management API) asked.
        by_handler: bool,
    },
    /// Send to the node's members of a group.
    Group {
        /// The group.
        group: String,
        /// The message.
        frame: Frame,
        /// A member left out.
        exclude: Option<String>,
    },
    /// Send to every connection of every node but the origin.
    Broadcast {
        /// The node that already delivered to its own connections.
        origin: String,
        /// The message.
        frame: Frame,
        /// A connection left out.
        exclude: Option<String>,
    },
    /// Add a connection to a group.
    Join {
        /// The group.
        group: String,
        /// The connection.
        id: String,
    },
    /// Remove a connection from a group.
    Leave {
        /// The group.
        group: String,
        /// The connection.
        id: String,
    },
    /// Tell what is known of a connection.
    Info {
        /// The connection.
        id: String,
    },
    /// The answer to a request this node sent.
    Reply {
        /// The request.
        request: u64,
        /// Done (with the connection's identity, for [`Delivery::Info`]), or
        /// why not.
        outcome: Result<Option<Identity>, SendError>,
    },
    /// A node gained its first member of a group, or lost its last.
    Presence {
        /// The node.
        node: String,
        /// The group.
        group: String,
        /// Whether it has members now.
        present: bool,
    },
    /// A node registered everything again: forget what is known of groups.
    Resync {
        /// The node.
        node: String,
    },
    /// A connection of this node is parked: seal its session (the marker of
    /// a park, behind everything sent to it before).
    Parked {
        /// The connection.
        id: String,
    },
    /// A session this node claimed: make its connection reachable here (the
    /// marker of a claim, behind every delivery decided before it).
    Claimed {
        /// The claim.
        claim: u64,
    },
    /// Nothing: answered once everything published to the inbox before it
    /// has been carried out.
    Barrier,
    /// Park a connection's session for its client, which resumed it with
    /// `token` on the asking node.
    Park {
        /// The connection.
        id: String,
        /// The resume token the client offered.
        token: String,
    },
}

/// What the owner tells of a connection, for `info` on another node.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Identity {
    /// When it was accepted (ms since the Unix epoch).
    pub connected_at: u64,
    /// When it last sent a message (ms since the Unix epoch).
    pub last_active_at: u64,
    /// The client's IP address.
    pub source_ip: String,
    /// The client's `User-Agent`.
    pub user_agent: String,
    /// The context `$connect` attached.
    pub context: Fields,
    /// The groups it is in (none from a node that predates the field).
    #[serde(default)]
    pub groups: Vec<String>,
}

impl Identity {
    /// The registry's answer for `id`.
    pub fn info(self, id: ConnectionId) -> ConnectionInfo {
        ConnectionInfo {
            id,
            connected_at: self.connected_at,
            last_active_at: self.last_active_at,
            source_ip: self.source_ip,
            user_agent: self.user_agent,
            context: self.context,
            groups: self.groups,
        }
    }
}

impl From<ConnectionInfo> for Identity {
    fn from(info: ConnectionInfo) -> Self {
        Identity {
            connected_at: info.connected_at,
            last_active_at: info.last_active_at,
            source_ip: info.source_ip,
            user_agent: info.user_agent,
            context: info.context,
            groups: info.groups,
        }
    }
}

/// A request to the owner of a connection, which answers on `reply_to`'s
/// inbox if it carried the request out by `accept_by`, and drops it after.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Ask {
    /// The request's id at the caller.
    pub request: u64,
    /// The caller's node.
    pub reply_to: String,
    /// The last instant (ms since the Unix epoch) at which the owner may
    /// still carry it out: the caller stops waiting a little after.
    pub accept_by: u64,
}

/// What travels on a channel: a delivery, and the request it answers to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    /// The request, if the sender waits for an answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ask: Option<Ask>,
    /// What to do.
    #[serde(rename = "do")]
    pub delivery: Delivery,
}

impl Envelope {
    /// A delivery nobody waits on.
    pub fn told(delivery: Delivery) -> Self {
        Envelope {
            ask: None,
            delivery,
        }
    }

    /// The envelope as its JSON text.
    pub fn encode(&self) -> String {
        serde_json::to_string(self).expect("a delivery serializes")
    }
}

impl Delivery {
    /// Carries the delivery out on this node's connections (requests,
    /// broadcasts and group sends; replies and notices are the inbox's).
    pub async fn apply(self, registry: &ClusterRegistry) -> Result<Option<Identity>, SendError> {
        let local = &registry.local;
        let done = match self {
            Delivery::Send { id, frame } => match frame.message() {
                Some(message) => local.send(&id.as_str().into(), message).await,
                None => Ok(()),
            },
            Delivery::Close {
                id,
                code,
                reason,
                by_handler,
            } => {
                let initiator = match by_handler {
                    true => CloseInitiator::Handler,
                    false => CloseInitiator::Api,
                };
                local
                    .close(&id.as_str().into(), code, &reason, initiator)
                    .await
            }
            Delivery::Group {
                group,
                frame,
                exclude,
            } => match frame.message() {
                Some(message) => {
                    let exclude = exclude.map(ConnectionId::from);
                    local.send_to_group(&group, message, exclude.as_ref()).await
                }
                None => Ok(()),
            },
            Delivery::Broadcast {
                origin,
                frame,
                exclude,
            } => match frame.message() {
                Some(message) if origin != registry.node() => {
                    let exclude = exclude.map(ConnectionId::from);
                    local.broadcast(message, exclude.as_ref()).await
                }
                _ => Ok(()),
            },
            Delivery::Join { group, id } => registry.join_held(&group, &id.into()).await,
            Delivery::Leave { group, id } => {
                registry.leave_held(&group, &id.into()).await;
                Ok(())
            }
            Delivery::Info { id } => {
                let info = local.info(&id.into()).await?;
                return Ok(Some(info.into()));
            }
            Delivery::Reply { .. }
            | Delivery::Presence { .. }
            | Delivery::Resync { .. }
            | Delivery::Parked { .. }
            | Delivery::Claimed { .. }
            | Delivery::Park { .. }
            | Delivery::Barrier => Ok(()),
        };
        done.map(|()| None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deliveries_survive_the_trip_through_json() {
        let deliveries = [
            Delivery::Send {
                id: "abc".into(),
                frame: Frame::of(&Message::binary(vec![0u8, 255, 7])).unwrap(),
            },
            Delivery::Close {
                id: "abc".into(),
                code: 4001,
                reason: "bye".into(),
                by_handler: false,
            },
            Delivery::Broadcast {
                origin: "node-a".into(),
                frame: Frame::Text("hi".into()),
                exclude: Some("abc".into()),
            },
        ];
        for delivery in deliveries {
            let envelope = Envelope {
                ask: Some(Ask {
                    request: 7,
                    reply_to: "node-b".into(),
                    accept_by: 1_700_000_000_000,
                }),
                delivery,
            };
            let back: Envelope = serde_json::from_str(&envelope.encode()).unwrap();
            assert_eq!(back, envelope);
        }
        let reply = Envelope::told(Delivery::Reply {
            request: 7,
            outcome: Err(SendError::Throttled),
        });
        let back: Envelope = serde_json::from_str(&reply.encode()).unwrap();
        assert_eq!(back, reply);
        let binary = Frame::Binary(STANDARD.encode([1u8, 2, 3]));
        assert_eq!(binary.message(), Some(Message::binary(vec![1u8, 2, 3])));
    }
}
