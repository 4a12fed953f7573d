//! Sessions of the reliable subprotocol moving between nodes: a node that
//! stops parks its resumable sessions in Redis ([`park`]), the node its
//! clients come back to claims them ([`claim`]), and until then requests,
//! group sends and broadcasts reach the parked state ([`parked`]), which
//! ends, with its `$disconnect`, if no client comes back in time.
//!
//! Every delivery is decided in Redis's order with the parks and claims
//! ([`scripts`]), and each node carries out the markers of its parks and
//! claims in its inbox's order: what a connection was sent before its park
//! is in the snapshot its node writes, what came after is appended, and
//! after its claim it reaches the claiming node, behind the claim. A node's
//! own group sends and broadcasts deliver to its connections directly,
//! outside that order; [`Handoffs`] keeps them from straddling a park or
//! claim, and while one is unfinished sends them through the inbox too.

pub(super) mod claim;
pub(super) mod park;
pub(super) mod parked;
pub(super) mod scripts;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::{Notify, RwLock, RwLockReadGuard, watch};

use crate::connection::{Connection, ConnectionId, Fields, Peer};

/// The order between this node's handoffs and its own fan-outs, and the
/// handoffs under way.
#[derive(Default)]
pub(super) struct Handoffs {
    /// Held (shared) by a group send or broadcast from its local delivery
    /// to its script; taken (exclusive) by a park or claim before its
    /// script, so that no fan-out straddles one.
    order: RwLock<()>,
    /// Parks and claims begun and not finished: while any, fan-outs from
    /// this node reach its own connections through its inbox.
    under_way: AtomicUsize,
    claims: Mutex<HashMap<u64, Arc<Claim>>>,
    next_claim: AtomicU64,
    /// Connections parked here whose session is not sealed yet.
    sealing: Mutex<HashSet<ConnectionId>>,
    sealed: Notify,
}

/// A fan-out's place in the order: held until its script has run.
pub(super) struct Turn<'h> {
    _order: RwLockReadGuard<'h, ()>,
    /// Whether to deliver to this node's connections through its inbox.
    pub(super) through_inbox: bool,
}

impl Handoffs {
    /// Waits for no park or claim to be committing, and says how to fan out.
    pub(super) async fn turn(&self) -> Turn<'_> {
        let order = self.order.read().await;
        Turn {
            _order: order,
            through_inbox: self.under_way.load(Ordering::Acquire) > 0,
        }
    }

    /// Begins a park or claim, once every fan-out in progress is done.
    async fn begin(&self) {
        let _exclusive = self.order.write().await;
        self.under_way.fetch_add(1, Ordering::AcqRel);
    }

    /// Ends a park or claim.
    fn end(&self) {
        self.under_way.fetch_sub(1, Ordering::AcqRel);
    }

    /// Whether a claim is under way here: Redis may list a connection as
    /// this node's that is not reachable here yet.
    pub(super) fn claiming(&self) -> bool {
        !self.claims.lock().expect("claims lock").is_empty()
    }

    fn claim(&self, number: u64) -> Option<Arc<Claim>> {
        self.claims
            .lock()
            .expect("claims lock")
            .get(&number)
            .cloned()
    }

    /// Waits until every connection in `sealing` is sealed, at most `wait`;
    /// answers those that are not.
    async fn await_seals(&self, wait: Duration) -> Vec<ConnectionId> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let notified = self.sealed.notified();
            let left: Vec<ConnectionId> = {
                let sealing = self.sealing.lock().expect("sealing lock");
                sealing.iter().cloned().collect()
            };
            if left.is_empty() {
                return left;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return left;
            }
        }
    }

    /// `id` is sealed (or its park undone).
    fn seal_done(&self, id: &ConnectionId) {
        self.sealing.lock().expect("sealing lock").remove(id);
        self.sealed.notify_waiters();
    }
}

/// One claim of this node, from its script to the claimed connection being
/// reachable here.
#[derive(Default)]
struct Claim {
    groups: Mutex<Vec<String>>,
    /// The connection the server built from the claimed session.
    built: watch::Sender<Option<Arc<Connection>>>,
    /// Set by whichever makes it reachable: the inbox at the marker, or
    /// the server when the marker is late.
    installing: std::sync::atomic::AtomicBool,
    /// Whether it is reachable here, in its groups.
    installed: watch::Sender<bool>,
}

/// What a parked session keeps of its connection besides its session.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Meta {
    connected_at: u64,
    last_active_at: u64,
    source_ip: String,
    user_agent: String,
    domain_name: String,
    context: Fields,
    subprotocol: Option<String>,
}

impl Meta {
    fn of(connection: &Connection, subprotocol: Option<String>) -> Self {
        let peer = connection.peer();
        Meta {
            connected_at: connection.connected_at(),
            last_active_at: connection.last_active_at(),
            source_ip: peer.source_ip.clone(),
            user_agent: peer.user_agent.clone(),
            domain_name: peer.domain_name.clone(),
            context: connection.context().to_vec(),
            subprotocol,
        }
    }

    fn parse(text: &str) -> Self {
        serde_json::from_str(text).unwrap_or_default()
    }

    fn peer(&self) -> Peer {
        Peer {
            source_ip: self.source_ip.clone(),
            user_agent: self.user_agent.clone(),
            domain_name: self.domain_name.clone(),
        }
    }
}

/// The groups of a parked session, from their JSON (an empty list may come
/// back from a script as `{}`).
fn groups(text: &str) -> Vec<String> {
    serde_json::from_str(text).unwrap_or_default()
}
