//! A connection's write side: the outbound queue drained into the socket, and
//! the answer to the client's own message placed after what the queue held
//! when the answer was known.
//!
//! The [`Writer`] does not own the socket: the connection's one task reads and
//! writes it, polling the writer whenever it waits for anything else, so
//! messages other connections push go out while a handler runs.

use std::pin::Pin;
use std::task::{Context, Poll, ready};

use futures_util::Sink;
use tokio_tungstenite::tungstenite::{self, Message};

use crate::connection::OutboundQueue;
use crate::observability::metrics::Metrics;

/// Writes a connection's outbound messages in order.
pub(super) struct Writer<'a> {
    queue: &'a OutboundQueue,
    /// The route response or error frame answering the client's last message.
    reply: Option<Message>,
    /// Queued messages that go out before `reply`: those queued before it.
    ahead: usize,
    /// Whether a message was written since the last flush.
    unflushed: bool,
    state: State,
    /// Why the socket failed, until the task takes it to end the connection.
    failure: Option<tungstenite::Error>,
    metrics: &'a Metrics,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    /// Writing what comes.
    Open,
    /// The close frame is written; flushing it.
    Closing,
    /// Nothing more will be written: the close frame went out or the socket failed.
    Done,
}

impl<'a> Writer<'a> {
    /// A writer draining `queue`.
    pub fn new(queue: &'a OutboundQueue, metrics: &'a Metrics) -> Self {
        Writer {
            queue,
            reply: None,
            ahead: 0,
            unflushed: false,
            state: State::Open,
            failure: None,
            metrics,
        }
    }

    /// Sends `message` after every message queued now and before any queued
    /// later, keeping the connection's send order (dropped if nothing more
    /// can be written).
    pub fn reply(&mut self, message: Message) {
        if self.state == State::Done {
            // The socket failed: the read side will end the connection.
            return;
        }
        self.ahead = self.queue.len();
        self.reply = Some(message);
    }

    /// Whether a reply is still waiting for the socket.
    pub fn has_reply(&self) -> bool {
        self.reply.is_some()
    }

    /// Gives up on the waiting reply.
    pub fn drop_reply(&mut self) {
        self.reply = None;
    }

    /// Writes what it can without waiting, leaving it unflushed (see
    /// [`Writer::poll_flush`]); ready once nothing more will be written (the
    /// close frame went out, or the socket failed).
    pub fn poll_write<S>(&mut self, socket: &mut S, cx: &mut Context<'_>) -> Poll<()>
    where
        S: Sink<Message, Error = tungstenite::Error> + Unpin,
    {
        let mut socket = Pin::new(socket);
        loop {
            match self.state {
                State::Done => return Poll::Ready(()),
                State::Closing => {
                    // Flushed or failed, the close frame was the last message.
                    let _ = ready!(socket.as_mut().poll_flush(cx));
                    self.state = State::Done;
                    continue;
                }
                State::Open => {}
            }
            if let Err(error) = ready!(socket.as_mut().poll_ready(cx)) {
                self.fail(error);
                continue;
            }
            let message = ready!(self.next(cx));
            let last = message.is_close();
            if message.is_text() || message.is_binary() {
                self.metrics.bytes_out(message.len());
            }
            if let Err(error) = socket.as_mut().start_send(message) {
                self.fail(error);
                continue;
            }
            self.unflushed = true;
            if last {
                self.state = State::Closing;
            }
        }
    }

    /// Sends what was written to the socket. The task calls this when it is
    /// about to wait, so replies to pipelined messages leave in one write.
    pub fn poll_flush<S>(&mut self, socket: &mut S, cx: &mut Context<'_>)
    where
        S: Sink<Message, Error = tungstenite::Error> + Unpin,
    {
        if !self.unflushed || self.state != State::Open {
            return;
        }
        match Pin::new(socket).poll_flush(cx) {
            Poll::Ready(Ok(())) => self.unflushed = false,
            Poll::Ready(Err(error)) => self.fail(error),
            Poll::Pending => {}
        }
    }

    /// Why writing failed, once: the task then ends the connection through
    /// its normal close path.
    pub fn take_failure(&mut self) -> Option<tungstenite::Error> {
        self.failure.take()
    }

    /// Nothing more can be written.
    fn fail(&mut self, error: tungstenite::Error) {
        tracing::debug!(%error, "writing to the client failed");
        self.state = State::Done;
        self.failure = Some(error);
    }

    /// Writes and flushes everything until the close frame is out (or the
    /// socket fails).
    pub fn poll_drain<S>(&mut self, socket: &mut S, cx: &mut Context<'_>) -> Poll<()>
    where
        S: Sink<Message, Error = tungstenite::Error> + Unpin,
    {
        if self.poll_write(socket, cx).is_ready() {
            return Poll::Ready(());
        }
        self.poll_flush(socket, cx);
        match self.state {
            State::Done => Poll::Ready(()),
            _ => Poll::Pending,
        }
    }

    /// The next message to write: the reply once what was queued before it
    /// has gone, otherwise the queue's next.
    fn next(&mut self, cx: &mut Context<'_>) -> Poll<Message> {
        if self.ahead == 0
            && let Some(reply) = self.reply.take()
        {
            return Poll::Ready(reply);
        }
        let next = self.queue.poll_pop(cx);
        if next.is_ready() {
            self.ahead = self.ahead.saturating_sub(1);
        }
        next
    }
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;
    use std::future::poll_fn;

    use futures_util::SinkExt;

    use super::*;

    fn text(body: &str) -> Message {
        Message::text(body)
    }

    /// A socket that collects what is written.
    fn sink() -> impl Sink<Message, Error = tungstenite::Error> + Unpin + Collected {
        Vec::new().sink_map_err(|never: Infallible| match never {})
    }

    /// What a test sink holds.
    trait Collected {
        fn written(&self) -> &[Message];
    }

    impl<F> Collected for futures_util::sink::SinkMapErr<Vec<Message>, F> {
        fn written(&self) -> &[Message] {
            self.get_ref()
        }
    }

    /// Polls the writer once, as the connection's task does before it waits.
    async fn turn<S>(writer: &mut Writer<'_>, sink: &mut S) -> Poll<()>
    where
        S: Sink<Message, Error = tungstenite::Error> + Unpin,
    {
        poll_fn(|cx| Poll::Ready(writer.poll_drain(sink, cx))).await
    }

    #[tokio::test]
    async fn a_reply_goes_after_what_was_queued_before_it_and_before_what_came_after() {
        let metrics = Metrics::new();
        let queue = OutboundQueue::new(8, 1 << 20);
        let mut writer = Writer::new(&queue, &metrics);
        let mut sink = sink();
        queue.push(text("pushed 1")).unwrap();
        queue.push(text("pushed 2")).unwrap();
        writer.reply(text("reply"));
        queue.push(text("pushed 3")).unwrap();
        assert!(writer.has_reply());
        assert_eq!(turn(&mut writer, &mut sink).await, Poll::Pending);
        assert!(!writer.has_reply());
        let order: Vec<_> = sink
            .written()
            .iter()
            .map(|m| m.to_text().unwrap())
            .collect();
        assert_eq!(order, ["pushed 1", "pushed 2", "reply", "pushed 3"]);
    }

    /// A socket whose every write fails, as one whose peer is gone does.
    struct Broken;

    impl Sink<Message> for Broken {
        type Error = tungstenite::Error;

        fn poll_ready(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
            Poll::Ready(Ok(()))
        }

        fn start_send(self: Pin<&mut Self>, _: Message) -> Result<(), Self::Error> {
            Err(tungstenite::Error::Io(
                std::io::ErrorKind::BrokenPipe.into(),
            ))
        }

        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
            Poll::Ready(Ok(()))
        }

        fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
            Poll::Ready(Ok(()))
        }
    }

    #[tokio::test]
    async fn a_failed_write_is_reported_once_and_ends_writing() {
        let metrics = Metrics::new();
        let queue = OutboundQueue::new(8, 1 << 20);
        let mut writer = Writer::new(&queue, &metrics);
        queue.push(text("lost")).unwrap();
        assert_eq!(turn(&mut writer, &mut Broken).await, Poll::Ready(()));
        let failure = writer.take_failure().expect("the failure");
        assert!(matches!(failure, tungstenite::Error::Io(_)), "{failure}");
        assert!(writer.take_failure().is_none());
        writer.reply(text("dropped"));
        assert!(!writer.has_reply());
    }

    #[tokio::test]
    async fn the_close_frame_is_the_last_message_written() {
        let metrics = Metrics::new();
        let queue = OutboundQueue::new(8, 1 << 20);
        let mut writer = Writer::new(&queue, &metrics);
        let mut sink = sink();
        queue.push(text("before")).unwrap();
        queue.push(Message::Close(None)).unwrap();
        queue.push(text("after")).unwrap();
        assert_eq!(turn(&mut writer, &mut sink).await, Poll::Ready(()));
        assert_eq!(sink.written(), [text("before"), Message::Close(None)]);
    }
}
