//! What one node asks another to do with its connections: the messages on the
//! nodes' inbox channels, and how the receiving node carries them out.
//!
//! Every delivery for a connection goes through the inbox of the node that
//! holds it, and a node handles its inbox one delivery at a time, so
//! deliveries issued one after another reach a connection in that order.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use tokio_tungstenite::tungstenite::Message;

use crate::connection::ConnectionId;
use crate::event::CloseInitiator;
use crate::registry::{LocalRegistry, Registry};

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

    fn message(self) -> Option<Message> {
        match self {
            Frame::Text(text) => Some(Message::text(text)),
            Frame::Binary(encoded) => STANDARD.decode(encoded).ok().map(Message::binary),
        }
    }
}

/// One request on a node's inbox (or, for broadcasts, on every node's).
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
    /// Record that a connection joined a group (Redis already knows).
    Join {
        /// The group.
        group: String,
        /// The connection.
        id: String,
    },
    /// Record that a connection left a group (Redis already knows).
    Leave {
        /// The group.
        group: String,
        /// The connection.
        id: String,
    },
}

/// What a node must still do in Redis after carrying out a delivery.
#[derive(Debug, PartialEq, Eq)]
pub enum FollowUp {
    /// Nothing.
    Done,
    /// The connection a `Join` named is gone: undo the membership in Redis.
    Unjoin {
        /// The group.
        group: String,
        /// The connection.
        id: ConnectionId,
    },
}

impl Delivery {
    /// The delivery as its JSON text.
    pub fn encode(&self) -> String {
        serde_json::to_string(self).expect("a delivery serializes")
    }

    /// Carries the delivery out on this node's connections. Failures (the
    /// connection closed meanwhile, a full queue) concern the one connection
    /// and are only logged: the sender was answered when it published.
    pub async fn apply(self, local: &LocalRegistry, this_node: &str) -> FollowUp {
        let outcome = match self {
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
                Some(message) if origin != this_node => {
                    let exclude = exclude.map(ConnectionId::from);
                    local.broadcast(message, exclude.as_ref()).await
                }
                _ => Ok(()),
            },
            Delivery::Join { group, id } => {
                let id = ConnectionId::from(id);
                if local.join(&group, &id).await.is_err() {
                    return FollowUp::Unjoin { group, id };
                }
                Ok(())
            }
            Delivery::Leave { group, id } => {
                local.leave(&group, &id.as_str().into()).await;
                Ok(())
            }
        };
        if let Err(error) = outcome {
            tracing::debug!(%error, "a delivery from another node did not reach its connection");
        }
        FollowUp::Done
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
            let back: Delivery = serde_json::from_str(&delivery.encode()).unwrap();
            assert_eq!(back, delivery);
        }
        let binary = Frame::Binary(STANDARD.encode([1u8, 2, 3]));
        assert_eq!(binary.message(), Some(Message::binary(vec![1u8, 2, 3])));
    }
}
