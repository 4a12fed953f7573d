//! Requests this node sends to other nodes and waits on: each gets an id, the
//! owner answers on this node's inbox, and the caller waits at most the
//! cluster timeout. A request not answered in time was not done: the owner
//! drops requests whose acceptance deadline has passed. A request for a
//! parked connection is carried out on its parked state instead.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::oneshot;

use super::delivery::{Ask, Delivery, Envelope, Identity};
use super::handoff::{parked, scripts};
use super::{ClusterRegistry, keys};
use crate::clock::now_ms;
use crate::connection::{ConnectionId, SendError};

/// What the owner answered: done (with the identity it was asked for), or
/// why not.
pub(super) type Answer = Result<Option<Identity>, SendError>;

/// The requests waiting for an answer.
#[derive(Default)]
pub(super) struct Pending {
    next: AtomicU64,
    waiting: Mutex<HashMap<u64, oneshot::Sender<Answer>>>,
}

/// One request's wait; dropping it forgets the request.
pub(super) struct Waiter<'a> {
    pending: &'a Pending,
    /// The request's id.
    pub id: u64,
    answer: oneshot::Receiver<Answer>,
}

impl Pending {
    /// Opens a request.
    pub(super) fn open(&self) -> Waiter<'_> {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let (sender, answer) = oneshot::channel();
        self.waiting
            .lock()
            .expect("pending lock")
            .insert(id, sender);
        Waiter {
            pending: self,
            id,
            answer,
        }
    }

    /// Hands an owner's answer to the request waiting for it, if it still is.
    pub(super) fn answer(&self, id: u64, answer: Answer) {
        let waiting = self.waiting.lock().expect("pending lock").remove(&id);
        if let Some(sender) = waiting {
            let _ = sender.send(answer);
        }
    }
}

impl Waiter<'_> {
    /// The owner's answer (`Unavailable` if it can no longer come).
    pub(super) async fn answer(&mut self) -> Answer {
        (&mut self.answer)
            .await
            .unwrap_or(Err(SendError::Unavailable))
    }
}

impl Drop for Waiter<'_> {
    fn drop(&mut self) {
        self.pending
            .waiting
            .lock()
            .expect("pending lock")
            .remove(&self.id);
    }
}

/// How many times a request follows a connection that moved meanwhile.
const MOVES_FOLLOWED: usize = 3;

/// Where a request went.
enum Routed {
    /// It was carried out, or failed.
    Done(Answer),
    /// The connection is parked, and the request is not a send.
    Parked,
}

impl ClusterRegistry {
    /// Asks the node holding `id` to carry out `delivery` (or, while it is
    /// parked, carries it out on the parked state), and waits for its answer
    /// at most the cluster timeout: `Unavailable` then, and the owner, past
    /// the request's deadline, will not carry it out.
    pub(super) async fn ask(&self, id: &ConnectionId, delivery: Delivery) -> Answer {
        let asked = async {
            for _ in 0..MOVES_FOLLOWED {
                match self.route(id, delivery.clone()).await {
                    Routed::Done(answer) => return answer,
                    Routed::Parked => {
                        if let Some(answer) = parked::request(self, id, &delivery).await {
                            return answer;
                        }
                    }
                }
            }
            Err(SendError::Unavailable)
        };
        tokio::time::timeout(self.settings.timeout, asked)
            .await
            .unwrap_or(Err(SendError::Unavailable))
    }

    /// Routes `delivery` to the node holding `id` and waits for its answer;
    /// a send to a parked connection is appended to its frames.
    async fn route(&self, id: &ConnectionId, delivery: Delivery) -> Routed {
        let timeout = self.settings.timeout;
        let entry = match &delivery {
            Delivery::Send { frame, .. } => parked::entry(frame),
            _ => String::new(),
        };
        let mut waiter = self.pending.open();
        let ask = Ask {
            request: waiter.id,
            reply_to: self.node().to_owned(),
            // The owner stops taking it a fifth of the timeout before the
            // caller stops waiting, which leaves time for the answer.
            accept_by: now_ms() + (timeout * 4 / 5).as_millis() as u64,
        };
        let envelope = Envelope {
            ask: Some(ask),
            delivery,
        };
        // Not an id a cluster node handed out: never was.
        let Some(tag) = id.tag() else {
            return Routed::Done(Err(SendError::Gone));
        };
        let mut route = keys::eval(&scripts::ROUTE, &keys::ROUTE_KEYS);
        route
            .arg(self.node())
            .arg(keys::NODE_PREFIX)
            .arg(keys::INBOX_PREFIX)
            .arg(envelope.encode())
            .arg(tag)
            .arg(id.as_str())
            .arg(entry);
        let answer = match self.link.query::<i64>(route).await {
            Err(error) => Err(error),
            Ok(-3) => Ok(None),
            Ok(-2) => return Routed::Parked,
            Ok(-1) => Err(SendError::Gone),
            Ok(0) => Err(SendError::Unavailable),
            Ok(_) => tokio::time::timeout(timeout, waiter.answer())
                .await
                .unwrap_or(Err(SendError::Unavailable)),
        };
        Routed::Done(answer)
    }

    /// Waits until this node's inbox has carried out everything published to
    /// it so far (at most the cluster timeout): a fan-out sent through it is
    /// then done before the sender's next send, whichever way that goes.
    pub(super) async fn barrier(&self) {
        let timeout = self.settings.timeout;
        let mut waiter = self.pending.open();
        let envelope = Envelope {
            ask: Some(Ask {
                request: waiter.id,
                reply_to: self.node().to_owned(),
                accept_by: now_ms() + timeout.as_millis() as u64,
            }),
            delivery: Delivery::Barrier,
        };
        let publish = redis::Cmd::publish(keys::inbox(self.node()), envelope.encode());
        if self.link.query::<()>(publish).await.is_ok() {
            let _ = tokio::time::timeout(timeout, waiter.answer()).await;
        }
    }
}
