//! A connection's outbound queue: bounded in messages and in bytes, filled by
//! anyone holding the connection, drained by its task. The close frame always
//! finds room, so a connection closed for a full queue still tells its client
//! why.
//!
//! It allocates nothing until a message is queued and gives its buffer back
//! once drained, so an idle connection pays only for the queue's few words
//! (tokio's `mpsc` channel allocates a block of 32 message slots, about 2 KiB,
//! with every channel).

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use futures_util::task::AtomicWaker;
use tokio_tungstenite::tungstenite::Message;

/// A drained queue whose buffer holds more slots than this gives it back.
const KEEP_SLOTS: usize = 8;

/// The messages waiting to be written to one connection.
#[derive(Debug)]
pub(crate) struct OutboundQueue {
    queued: Mutex<Queued>,
    max_messages: usize,
    max_bytes: usize,
    /// Whether `queued` holds a message, kept under its lock: the task looks
    /// on every turn of its loop, and an empty queue is then told apart
    /// without taking the lock.
    filled: AtomicBool,
    /// The connection's task, waiting for a message.
    task: AtomicWaker,
}

#[derive(Debug, Default)]
struct Queued {
    messages: VecDeque<Message>,
    /// The payload bytes of `messages`.
    bytes: usize,
    /// How many messages at the front are a replay, outside the bounds: a
    /// client catching up is not a slow one.
    replayed: usize,
    /// Their payload bytes.
    replayed_bytes: usize,
}

impl OutboundQueue {
    /// An empty queue holding at most `max_messages` messages (at least one)
    /// and `max_bytes` bytes of payload; a message larger than that still
    /// fits into an empty queue, so every message the size limit lets through
    /// can be sent.
    pub(crate) fn new(max_messages: usize, max_bytes: usize) -> Self {
        OutboundQueue {
            queued: Mutex::default(),
            max_messages: max_messages.max(1),
            max_bytes,
            filled: AtomicBool::new(false),
            task: AtomicWaker::new(),
        }
    }

    /// Queues `message`; gives it back if the queue is full.
    pub(crate) fn push(&self, message: Message) -> Result<(), Message> {
        {
            let mut queued = self.queued.lock().expect("queue lock");
            let len = queued.messages.len() - queued.replayed;
            let bytes = queued.bytes - queued.replayed_bytes;
            let over_bytes = len > 0 && bytes + message.len() > self.max_bytes;
            if len >= self.max_messages || over_bytes {
                return Err(message);
            }
            queued.bytes += message.len();
            queued.messages.push_back(message);
            self.filled.store(true, Ordering::Release);
        }
        self.task.wake();
        Ok(())
    }

    /// Queues the close frame, the last message, whatever the bounds: room is
    /// kept for it.
    pub(crate) fn push_close(&self, frame: Message) {
        {
            let mut queued = self.queued.lock().expect("queue lock");
            queued.bytes += frame.len();
            queued.messages.push_back(frame);
            self.filled.store(true, Ordering::Release);
        }
        self.task.wake();
    }

    /// Queues `frame` ahead of everything, whatever the bounds: the first
    /// frame a connection sends.
    pub(crate) fn push_front(&self, frame: Message) {
        {
            let mut queued = self.queued.lock().expect("queue lock");
            queued.bytes += frame.len();
            queued.messages.push_front(frame);
            self.filled.store(true, Ordering::Release);
        }
        self.task.wake();
    }

    /// Replaces what is waiting with `messages`, whatever the bounds (a
    /// replay, bounded by the session's own), which do not count against the
    /// bounds of what is queued after them.
    pub(crate) fn replace(&self, messages: impl Iterator<Item = Message>) {
        {
            let mut queued = self.queued.lock().expect("queue lock");
            queued.messages.clear();
            queued.bytes = 0;
            for message in messages {
                queued.bytes += message.len();
                queued.messages.push_back(message);
            }
            queued.replayed = queued.messages.len();
            queued.replayed_bytes = queued.bytes;
            self.filled
                .store(!queued.messages.is_empty(), Ordering::Release);
        }
        self.task.wake();
    }

    /// How many messages are waiting.
    pub(crate) fn len(&self) -> usize {
        self.queued.lock().expect("queue lock").messages.len()
    }

    /// The next message, once there is one (for the connection's task only:
    /// one waiter at a time).
    pub(crate) fn poll_pop(&self, cx: &mut Context<'_>) -> Poll<Message> {
        if let Some(message) = self.pop() {
            return Poll::Ready(message);
        }
        // Register before looking again, so a push in between is not missed.
        self.task.register(cx.waker());
        match self.pop() {
            Some(message) => Poll::Ready(message),
            None => Poll::Pending,
        }
    }

    fn pop(&self) -> Option<Message> {
        if !self.filled.load(Ordering::Acquire) {
            return None;
        }
        let mut queued = self.queued.lock().expect("queue lock");
        let message = queued.messages.pop_front()?;
        queued.bytes -= message.len();
        if queued.replayed > 0 {
            queued.replayed -= 1;
            queued.replayed_bytes -= message.len();
        }
        if queued.messages.is_empty() {
            self.filled.store(false, Ordering::Release);
            if queued.messages.capacity() > KEEP_SLOTS {
                queued.messages = VecDeque::new();
            }
        }
        Some(message)
    }
}

#[cfg(test)]
mod tests {
    use std::future::poll_fn;

    use super::*;

    #[test]
    fn a_full_queue_gives_the_message_back() {
        let queue = OutboundQueue::new(2, 1024);
        assert!(queue.push(Message::text("a")).is_ok());
        assert!(queue.push(Message::text("b")).is_ok());
        assert_eq!(queue.push(Message::text("c")), Err(Message::text("c")));
        assert_eq!(queue.len(), 2);
    }

    #[test]
    fn the_queue_is_bounded_in_bytes_but_always_takes_one_message_and_the_close_frame() {
        let queue = OutboundQueue::new(100, 10);
        assert!(queue.push(Message::binary(vec![0; 25])).is_ok());
        assert!(queue.push(Message::binary(vec![0; 1])).is_err());
        queue.push_close(Message::Close(None));
        assert_eq!(queue.len(), 2);
        let waker = futures_util::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        assert!(queue.poll_pop(&mut cx).is_ready());
        assert!(queue.poll_pop(&mut cx).is_ready());
        assert!(queue.push(Message::binary(vec![0; 6])).is_ok());
        assert!(queue.push(Message::binary(vec![0; 4])).is_ok());
        assert!(queue.push(Message::binary(vec![0; 1])).is_err());
    }

    #[test]
    fn a_replay_does_not_count_against_the_bounds_of_what_follows_it() {
        let queue = OutboundQueue::new(2, 1024);
        queue.replace((0..5).map(|n| Message::text(n.to_string())));
        assert!(queue.push(Message::text("a")).is_ok());
        assert!(queue.push(Message::text("b")).is_ok());
        assert!(queue.push(Message::text("c")).is_err());
        let waker = futures_util::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        for _ in 0..5 {
            assert!(queue.poll_pop(&mut cx).is_ready());
        }
        assert!(
            queue.push(Message::text("c")).is_err(),
            "a and b still wait"
        );
        assert!(queue.poll_pop(&mut cx).is_ready());
        assert!(queue.push(Message::text("c")).is_ok());
    }

    #[tokio::test]
    async fn messages_come_out_in_order_and_a_push_wakes_the_task() {
        let queue = std::sync::Arc::new(OutboundQueue::new(4, 1024));
        queue.push(Message::text("first")).unwrap();
        assert_eq!(
            poll_fn(|cx| queue.poll_pop(cx)).await,
            Message::text("first")
        );
        let pusher = std::sync::Arc::clone(&queue);
        let waiting = tokio::spawn(async move { poll_fn(|cx| pusher.poll_pop(cx)).await });
        tokio::task::yield_now().await;
        queue.push(Message::text("second")).unwrap();
        assert_eq!(waiting.await.unwrap(), Message::text("second"));
        assert_eq!(queue.len(), 0);
    }
}
