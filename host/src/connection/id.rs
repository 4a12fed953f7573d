//! Connection ids and the other ids the gateway hands out: unguessable ones
//! for connections and management requests, merely unique ones for events.

use std::borrow::Borrow;
use std::cell::RefCell;
use std::fmt;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::rngs::SmallRng;
use rand::{Rng as _, SeedableRng as _};

/// An opaque, URL-safe, unguessable connection id (128 random bits).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnectionId(Arc<str>);

/// How many characters the random part of a connection id has (16 bytes).
const RANDOM_CHARS: usize = 22;

/// How many characters a node tag has.
pub const TAG_CHARS: usize = 8;

/// A fresh node tag: 6 random bytes, [`TAG_CHARS`] characters.
pub fn node_tag() -> String {
    random_token::<6>()
}

impl ConnectionId {
    /// A fresh random id.
    pub fn random() -> Self {
        ConnectionId(random_token::<16>().into())
    }

    /// A fresh random id ending in `tag` (a cluster node's, so that any node
    /// can tell which node holds the connection).
    pub fn tagged(tag: &str) -> Self {
        ConnectionId(format!("{}{tag}", random_token::<16>()).into())
    }

    /// The tag a [`ConnectionId::tagged`] id ends in, if the id is one.
    pub fn tag(&self) -> Option<&str> {
        self.0
            .get(RANDOM_CHARS..)
            .filter(|tag| tag.len() == TAG_CHARS)
    }

    /// The id as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<&str> for ConnectionId {
    fn from(id: &str) -> Self {
        ConnectionId(id.into())
    }
}

impl From<String> for ConnectionId {
    fn from(id: String) -> Self {
        ConnectionId(id.into())
    }
}

impl Borrow<str> for ConnectionId {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ConnectionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An unguessable URL-safe token of `N` random bytes from a cryptographically
/// secure generator: for connection ids and management request ids.
pub fn random_token<const N: usize>() -> String {
    URL_SAFE_NO_PAD.encode(rand::random::<[u8; N]>())
}

thread_local! {
    /// A fast generator per thread, seeded from the secure one.
    static EVENT_IDS: RefCell<SmallRng> = RefCell::new(SmallRng::from_rng(&mut rand::rng()));
}

/// How many characters an [`EventToken`] has (96 bits in base64).
const EVENT_TOKEN_CHARS: usize = 16;

/// A URL-safe token of 96 random bits from a fast, non-cryptographic
/// generator: the request and message ids of events, which must be unique
/// but need not be unguessable (they grant nothing). One is made for every
/// message, so it is a copyable value, not a `String`: an event's context,
/// its access log record and its error frame each take a copy for free.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct EventToken([u8; EVENT_TOKEN_CHARS]);

impl EventToken {
    /// A fresh token.
    pub fn new() -> Self {
        let bytes: [u8; 12] = EVENT_IDS.with_borrow_mut(|rng| rng.random());
        let mut text = [0; EVENT_TOKEN_CHARS];
        let written = URL_SAFE_NO_PAD
            .encode_slice(bytes, &mut text)
            .expect("12 bytes are 16 base64 characters");
        debug_assert_eq!(written, EVENT_TOKEN_CHARS);
        EventToken(text)
    }

    /// The token as text.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).expect("base64 is ASCII")
    }
}

impl Default for EventToken {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for EventToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for EventToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tagged_id_tells_its_tag_and_a_random_one_has_none() {
        let tag = node_tag();
        assert_eq!(tag.len(), TAG_CHARS);
        let id = ConnectionId::tagged(&tag);
        assert_eq!(id.tag(), Some(tag.as_str()));
        assert_ne!(ConnectionId::tagged(&tag), id);
        assert_eq!(ConnectionId::random().tag(), None);
        assert_eq!(ConnectionId::from("nobody").tag(), None);
    }

    #[test]
    fn event_tokens_look_like_random_tokens_and_differ() {
        let (a, b) = (EventToken::new(), EventToken::new());
        assert_eq!(a.as_str().len(), random_token::<12>().len());
        assert_ne!(a, b);
        assert!(
            a.as_str()
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        );
        assert_eq!(a.to_string(), a.as_str());
    }
}
