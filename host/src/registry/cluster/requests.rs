//! Requests this node sent to other nodes and waits on: each gets an id, the
//! owner answers on this node's inbox, and the caller waits at most the
//! cluster timeout. A request not answered in time was not done: the owner
//! drops requests whose acceptance deadline has passed.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::oneshot;

use super::delivery::Identity;
use crate::connection::SendError;

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
