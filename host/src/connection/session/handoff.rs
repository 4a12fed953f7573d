//! A session handed from one node to another: sealed where its node stops
//! (a rolling restart), its state written to the cluster, and restored on
//! the node the client resumes on, with the frames sent to it meanwhile
//! numbered after those it already had.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::AtomicBool;

use futures_util::task::AtomicWaker;
use tokio_tungstenite::tungstenite::Message;

use super::{Link, ResumeLimits, Session, State, wrap};

/// What a sealed session carries to the node that resumes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionSnapshot {
    /// The resume token, which stays the same.
    pub token: String,
    /// The number the next frame gets.
    pub next_seq: u64,
    /// Every frame up to this one is acknowledged.
    pub acked: u64,
    /// The numbered frames after `acked`, as the client receives them.
    pub frames: Vec<String>,
    /// The subprotocol `$connect` chose.
    pub subprotocol: Option<String>,
}

impl Session {
    /// Seals the session for another node: from now on nothing is numbered
    /// here (a send fails as if it were gone, so the registry sends it to the
    /// cluster instead), a detached connection stops waiting, and its end
    /// runs no `$disconnect` ([`Session::end`] says so). `None` if it ended
    /// or can no longer be resumed, and then nothing changes.
    pub fn seal(&self) -> Option<SessionSnapshot> {
        let mut state = self.state();
        if state.link == Link::Ended || state.parked || !state.resumable {
            return None;
        }
        state.parked = true;
        let frames = state
            .replay
            .iter()
            .filter_map(|frame| frame.to_text().ok().map(str::to_owned))
            .collect();
        let snapshot = SessionSnapshot {
            token: self.token.clone(),
            next_seq: state.next_seq,
            acked: state.acked,
            frames,
            subprotocol: state.subprotocol.clone(),
        };
        state.replay = VecDeque::new();
        state.bytes = 0;
        drop(state);
        self.task.wake();
        Some(snapshot)
    }

    /// Whether the session was sealed for another node.
    pub fn is_parked(&self) -> bool {
        self.state().parked
    }

    /// The session `snapshot` describes, taken over from another node, with
    /// `tail` (sent while no node held it) numbered after its frames; it is
    /// detached until the resumed socket attaches.
    pub fn restore(snapshot: SessionSnapshot, tail: Vec<Message>, limits: ResumeLimits) -> Self {
        let mut replay: VecDeque<Message> =
            snapshot.frames.into_iter().map(Message::text).collect();
        let mut next_seq = snapshot.next_seq;
        for message in tail {
            if let Some(frame) = wrap(next_seq, &message) {
                replay.push_back(frame);
                next_seq += 1;
            }
        }
        let bytes = replay.iter().map(Message::len).sum();
        Session {
            token: snapshot.token,
            limits,
            state: Mutex::new(State {
                next_seq,
                acked: snapshot.acked,
                replay,
                bytes,
                resumable: true,
                link: Link::Detached,
                resume: None,
                subprotocol: snapshot.subprotocol,
                parked: false,
            }),
            resuming: AtomicBool::new(false),
            task: AtomicWaker::new(),
        }
    }
}
