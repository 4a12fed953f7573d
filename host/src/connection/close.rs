//! How a connection is asked to close, how its task learns of it, and how
//! the way it ended is told to `$disconnect`.

use std::future::poll_fn;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::Poll;

use futures_util::task::AtomicWaker;
use tokio_tungstenite::tungstenite::error::ProtocolError;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{self, Message};

use super::Connection;

/// The close code and reason of a connection the gateway ends as it goes
/// away: at shutdown, and (with a reason of their own) by the timers.
pub const GOING_AWAY: (u16, &str) = (1001, "going away");

/// The close code and reason of a client that does not read what it is sent.
pub(super) const TOO_SLOW: (u16, &str) = (1013, "outbound queue full: the client reads too slowly");

/// The close code and reason of a client that sent a binary message where
/// they are refused (`--compat aws`: API Gateway's code).
pub const BINARY_REFUSED: (u16, &str) = (1003, "binary frames are not supported");

/// A request to close a connection, by someone other than the client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CloseRequest {
    /// What `$disconnect` will be told.
    pub info: DisconnectInfo,
}

impl CloseRequest {
    /// A close request; the reason is cut to the 123 bytes a close frame holds.
    pub fn new(code: u16, reason: &str, initiator: CloseInitiator) -> Self {
        let mut end = reason.len().min(123);
        while !reason.is_char_boundary(end) {
            end -= 1;
        }
        CloseRequest {
            info: DisconnectInfo {
                code,
                reason: reason[..end].to_owned(),
                initiator,
            },
        }
    }

    /// The close frame to send to the client.
    pub fn frame(&self) -> Message {
        Message::Close(Some(CloseFrame {
            code: CloseCode::from(self.info.code),
            reason: self.info.reason.clone().into(),
        }))
    }
}

/// Whether, how and by whom a connection has been asked to close.
#[derive(Debug, Default)]
pub struct CloseState {
    request: Mutex<Option<CloseRequest>>,
    /// Mirrors `request.is_some()`, so every send can check it without a lock.
    closing: AtomicBool,
    /// The connection's task, woken by the request. Not a `Notify`: the task
    /// polls this on every turn of its loop, and polling a waiting `Notified`
    /// takes a lock each time.
    task: AtomicWaker,
}

impl CloseState {
    /// Records the first close request; returns false if one was already made.
    pub(super) fn request(&self, request: CloseRequest) -> bool {
        let mut slot = self.request.lock().expect("close lock");
        if slot.is_some() {
            return false;
        }
        *slot = Some(request);
        self.closing.store(true, Ordering::Release);
        true
    }

    /// Wakes the connection's task.
    pub(super) fn signal(&self) {
        self.task.wake();
    }

    /// Whether someone asked the connection to close.
    pub fn is_requested(&self) -> bool {
        self.closing.load(Ordering::Acquire)
    }

    /// The close request, if any.
    pub fn request_made(&self) -> Option<CloseRequest> {
        self.request.lock().expect("close lock").clone()
    }

    /// Resolves once a close has been requested. For the connection's own
    /// task: only the last task to wait is woken.
    pub async fn requested(&self) {
        poll_fn(|cx| {
            if self.is_requested() {
                return Poll::Ready(());
            }
            // Register before looking again, so a request in between is not missed.
            self.task.register(cx.waker());
            match self.is_requested() {
                true => Poll::Ready(()),
                false => Poll::Pending,
            }
        })
        .await
    }
}

/// How the connection ended: a close someone asked for, a protocol failure,
/// the client's close frame, or a dropped connection, in that order.
pub(crate) fn ending(
    connection: &Connection,
    client_close: Option<(u16, String)>,
    failure: Option<tungstenite::Error>,
) -> DisconnectInfo {
    if let Some(request) = connection.close_state().request_made() {
        return request.info;
    }
    let server = |code, reason: String| DisconnectInfo {
        code,
        reason,
        initiator: CloseInitiator::Server,
    };
    match (failure, client_close) {
        (Some(tungstenite::Error::Protocol(ProtocolError::ResetWithoutClosingHandshake)), _) => {
            lost()
        }
        (Some(tungstenite::Error::Capacity(error)), _) => server(1009, error.to_string()),
        (Some(tungstenite::Error::WriteBufferFull(_)), _) => server(
            1011,
            "writing to the client failed: its write buffer is full".into(),
        ),
        (Some(tungstenite::Error::Utf8(_)), _) => {
            server(1007, "invalid UTF-8 in a text frame".into())
        }
        (Some(tungstenite::Error::Protocol(error)), _) => server(1002, error.to_string()),
        (_, Some((code, reason))) => DisconnectInfo {
            code,
            reason,
            initiator: CloseInitiator::Client,
        },
        (_, None) => lost(),
    }
}

/// A connection that ended without a close frame.
fn lost() -> DisconnectInfo {
    DisconnectInfo {
        code: 1006,
        reason: "the connection was lost without a close frame".into(),
        initiator: CloseInitiator::Client,
    }
}

/// Who ended a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CloseInitiator {
    /// The client sent a close frame or dropped the TCP connection.
    Client,
    /// A route handler called `connections.close`.
    Handler,
    /// A backend closed it through the management API.
    Api,
    /// The gateway itself: a protocol error or a limit.
    Server,
    /// No traffic for the idle timeout.
    IdleTimeout,
    /// The client stopped answering pings.
    PingTimeout,
    /// The connection reached its maximum duration.
    MaxDuration,
    /// The gateway is shutting down.
    Shutdown,
}

impl CloseInitiator {
    /// The initiator's name in logs (the WIT enum case name).
    pub fn as_str(self) -> &'static str {
        match self {
            CloseInitiator::Client => "client",
            CloseInitiator::Handler => "handler",
            CloseInitiator::Api => "api",
            CloseInitiator::Server => "server",
            CloseInitiator::IdleTimeout => "idle-timeout",
            CloseInitiator::PingTimeout => "ping-timeout",
            CloseInitiator::MaxDuration => "max-duration",
            CloseInitiator::Shutdown => "shutdown",
        }
    }
}

/// How a connection ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DisconnectInfo {
    /// The WebSocket close code.
    pub code: u16,
    /// The close reason.
    pub reason: String,
    /// Who closed it.
    pub initiator: CloseInitiator,
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[tokio::test]
    async fn a_task_waiting_for_a_close_request_is_woken_by_it_and_a_later_wait_ends_at_once() {
        let state = Arc::new(CloseState::default());
        let waiting = tokio::spawn({
            let state = Arc::clone(&state);
            async move { state.requested().await }
        });
        // The task is waiting (it has registered) before the request comes.
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished());
        let request = CloseRequest::new(1000, "bye", CloseInitiator::Api);
        assert!(state.request(request.clone()));
        state.signal();
        // Not woken, the task would wait forever: the deadline fails the test.
        tokio::time::timeout(std::time::Duration::from_secs(10), waiting)
            .await
            .expect("the request wakes the waiting task")
            .unwrap();
        assert!(!state.request(request), "only the first request counts");
        state.requested().await;
    }
}
