//! The reliable subprotocol's side of one connection (`wsgate.reliable.v1`,
//! docs/reliable.md): the sequence numbers of what the gateway sends, the
//! replay buffer of what the client has not acknowledged, and whether a
//! socket is attached.
//!
//! A [`Session`] outlives the sockets of its connection: when one drops, the
//! connection is detached and sends to it only fill the replay buffer; a
//! client that comes back with the resume token hands its new socket over
//! ([`Session::hand_over`]) and the connection's task attaches it, replaying
//! what the client missed before anything sent later.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use futures_util::task::AtomicWaker;
use hyper::upgrade::OnUpgrade;
use tokio_tungstenite::tungstenite::Message;

use super::{ConnectionId, OutboundQueue, ResumeLimits, SendError, random_token};
pub use frame::acknowledged;
use frame::{greeting, wrap};
pub use handoff::SessionSnapshot;

mod frame;
mod handoff;

/// The subprotocol a client offers to opt in.
pub const RELIABLE_SUBPROTOCOL: &str = "wsgate.reliable.v1";

/// Random bytes in a resume token (192 bits).
const TOKEN_BYTES: usize = 24;

/// A client's new socket, handed to the connection it resumes.
pub struct Resume {
    /// The upgrade of the resuming request, completed once the 101 is sent.
    pub upgrade: OnUpgrade,
    /// The last sequence number the client received.
    pub last_seq: u64,
}

/// The reliable state of one connection.
#[derive(Debug)]
pub struct Session {
    token: String,
    limits: ResumeLimits,
    state: Mutex<State>,
    /// Whether `state` holds a resume, kept under its lock: the connection's
    /// task looks on every turn of its loop, without the lock.
    resuming: AtomicBool,
    /// The connection's task, waiting for a resume.
    task: AtomicWaker,
}

#[derive(Debug)]
struct State {
    /// The sequence number of the next frame.
    next_seq: u64,
    /// Every frame up to this one is acknowledged (or known received).
    acked: u64,
    /// The wrapped frames after `acked`, in order, while `resumable`.
    replay: VecDeque<Message>,
    /// The payload bytes of `replay`.
    bytes: usize,
    /// False once the replay buffer overflowed: the connection can no longer
    /// be resumed, and ends when it drops.
    resumable: bool,
    link: Link,
    /// A resume handed over, for the connection's task to take.
    resume: Option<Resume>,
    /// The subprotocol `$connect` chose, answered again on a resume.
    subprotocol: Option<String>,
    /// Sealed for another node (see [`Session::seal`]): nothing more is
    /// numbered here, and the connection ends without its `$disconnect`.
    parked: bool,
}

impl std::fmt::Debug for Resume {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resume")
            .field("last_seq", &self.last_seq)
            .finish()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Link {
    /// A socket is attached: frames go to the outbound queue too.
    Attached,
    /// The socket dropped: frames wait in the replay buffer.
    Detached,
    /// The connection ended: nothing more is taken.
    Ended,
}

impl Session {
    /// A new session of connection `id` with a fresh resume token and these
    /// bounds. The token names the connection (`ID.SECRET`), so that in a
    /// cluster any node can find the one that holds it.
    pub fn new(id: &ConnectionId, limits: ResumeLimits) -> Self {
        Session {
            token: format!("{id}.{}", random_token::<TOKEN_BYTES>()),
            limits,
            state: Mutex::new(State {
                next_seq: 1,
                acked: 0,
                replay: VecDeque::new(),
                bytes: 0,
                resumable: true,
                link: Link::Attached,
                resume: None,
                subprotocol: None,
                parked: false,
            }),
            resuming: AtomicBool::new(false),
            task: AtomicWaker::new(),
        }
    }

    /// The secret a client resumes with.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// How long a dropped connection waits for its client.
    pub fn window(&self) -> std::time::Duration {
        self.limits.window
    }

    /// Its bounds.
    pub fn limits(&self) -> ResumeLimits {
        self.limits
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().expect("session lock")
    }

    /// Remembers the subprotocol `$connect` chose.
    pub fn set_subprotocol(&self, subprotocol: Option<String>) {
        self.state().subprotocol = subprotocol;
    }

    /// The subprotocol `$connect` chose.
    pub fn subprotocol(&self) -> Option<String> {
        self.state().subprotocol.clone()
    }

    /// Whether the connection can still be resumed.
    pub fn is_resumable(&self) -> bool {
        self.state().resumable
    }

    /// The frame that tells the client its connection id and resume token.
    pub fn greeting(&self, id: &ConnectionId, resumed: bool) -> Message {
        greeting(id, &self.token, resumed)
    }

    /// Numbers `message`, keeps it for a replay, and hands the wrapped frame
    /// to `deliver` while a socket is attached (under the session's lock, so
    /// frames are delivered in the order of their numbers). Control frames
    /// pass unnumbered.
    pub(crate) fn sequence(
        &self,
        id: &ConnectionId,
        message: Message,
        deliver: impl FnOnce(Message) -> Result<(), SendError>,
    ) -> Result<(), SendError> {
        let mut state = self.state();
        if state.link == Link::Ended || state.parked {
            return Err(SendError::Gone);
        }
        let seq = state.next_seq;
        let Some(frame) = wrap(seq, &message) else {
            return deliver(message);
        };
        state.next_seq += 1;
        if state.resumable {
            state.keep(frame.clone(), &self.limits, id);
        }
        match state.link {
            Link::Attached => deliver(frame),
            Link::Detached if state.resumable => Ok(()),
            // Overflowed while detached: nobody will ever read it.
            _ => {
                drop(state);
                self.task.wake();
                Err(SendError::Gone)
            }
        }
    }

    /// Drops the frames the client acknowledged, up to `seq`.
    pub fn acknowledge(&self, seq: u64) {
        self.state().acknowledge(seq);
    }

    /// Detaches the dropped socket; false if the connection cannot be resumed
    /// (and so ends now).
    pub fn detach(&self) -> bool {
        let mut state = self.state();
        if state.resumable && state.link == Link::Attached {
            state.link = Link::Detached;
            true
        } else {
            false
        }
    }

    /// Hands a resuming client's socket to the connection's task; gives it
    /// back if the connection cannot honour it (it ended, it overflowed, or
    /// `last_seq` is not one it can replay from).
    pub fn hand_over(&self, resume: Resume) -> Result<(), Resume> {
        {
            let mut state = self.state();
            let replayable = state.acked <= resume.last_seq && resume.last_seq < state.next_seq;
            if state.link == Link::Ended || state.parked || !state.resumable || !replayable {
                return Err(resume);
            }
            // A later resume of the same session wins over an earlier one.
            state.resume = Some(resume);
            self.resuming.store(true, Ordering::Release);
        }
        self.task.wake();
        Ok(())
    }

    /// A resume handed over, once there is one (the connection's task polls
    /// this while a socket is attached: the client came back before the old
    /// socket was seen to drop).
    pub fn poll_takeover(&self, cx: &mut Context<'_>) -> Poll<Resume> {
        self.task.register(cx.waker());
        if !self.resuming.load(Ordering::Acquire) {
            return Poll::Pending;
        }
        match self.state().take_resume(&self.resuming) {
            Some(resume) => Poll::Ready(resume),
            None => Poll::Pending,
        }
    }

    /// While detached: a resume once one is handed over, or `None` once the
    /// connection can no longer be resumed.
    pub fn poll_resume(&self, cx: &mut Context<'_>) -> Poll<Option<Resume>> {
        self.task.register(cx.waker());
        let mut state = self.state();
        match state.take_resume(&self.resuming) {
            Some(resume) => Poll::Ready(Some(resume)),
            None if !state.resumable || state.parked => Poll::Ready(None),
            None => Poll::Pending,
        }
    }

    /// Attaches the resumed socket: the outbound queue is replaced by the
    /// greeting and every kept frame after `last_seq`, and later frames follow.
    pub(crate) fn attach(&self, id: &ConnectionId, last_seq: u64, queue: &OutboundQueue) {
        let mut state = self.state();
        state.acknowledge(last_seq);
        state.link = Link::Attached;
        let greeting = self.greeting(id, true);
        queue.replace(std::iter::once(greeting).chain(state.replay.iter().cloned()));
    }

    /// Ends the session: nothing more is kept or taken. Says whether it was
    /// sealed for another node first, which then owns its end.
    pub fn end(&self) -> bool {
        let mut state = self.state();
        state.link = Link::Ended;
        state.take_resume(&self.resuming);
        state.replay = VecDeque::new();
        state.bytes = 0;
        state.parked
    }
}

impl State {
    /// The resume handed over, if any; `resuming` says there is none left.
    fn take_resume(&mut self, resuming: &AtomicBool) -> Option<Resume> {
        resuming.store(false, Ordering::Release);
        self.resume.take()
    }

    /// Keeps `frame` for a replay, or gives up resumability if it does not fit.
    fn keep(&mut self, frame: Message, limits: &ResumeLimits, id: &ConnectionId) {
        let len = frame.len();
        if self.replay.len() >= limits.buffer || self.bytes + len > limits.buffer_bytes {
            tracing::warn!(
                connection = %id,
                unacknowledged = self.replay.len(),
                bytes = self.bytes,
                "the replay buffer is full: the connection can no longer be resumed"
            );
            self.resumable = false;
            self.replay = VecDeque::new();
            self.bytes = 0;
            return;
        }
        self.bytes += len;
        self.replay.push_back(frame);
    }

    fn acknowledge(&mut self, seq: u64) {
        while self.acked < seq {
            let Some(frame) = self.replay.pop_front() else {
                break;
            };
            self.bytes -= frame.len();
            self.acked += 1;
        }
        // Known received even when nothing was kept (after an overflow).
        self.acked = self.acked.max(seq.min(self.next_seq - 1));
    }
}

#[cfg(test)]
mod tests;
