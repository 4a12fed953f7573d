//! A connection's outbound queue: bounded, filled by anyone holding the
//! connection, drained by its task.
//!
//! It allocates nothing until a message is queued and gives its buffer back
//! once drained, so an idle connection pays only for the queue's few words
//! (tokio's `mpsc` channel allocates a block of 32 message slots, about 2 KiB,
//! with every channel).

use std::collections::VecDeque;
use std::sync::Mutex;
use std::task::{Context, Poll};

use futures_util::task::AtomicWaker;
use tokio_tungstenite::tungstenite::Message;

/// A drained queue whose buffer holds more slots than this gives it back.
const KEEP_SLOTS: usize = 8;

/// The messages waiting to be written to one connection.
#[derive(Debug)]
pub(super) struct OutboundQueue {
    messages: Mutex<VecDeque<Message>>,
    capacity: usize,
    /// The connection's task, waiting for a message.
    task: AtomicWaker,
}

impl OutboundQueue {
    /// An empty queue holding at most `capacity` messages (at least one).
    pub fn new(capacity: usize) -> Self {
        OutboundQueue {
            messages: Mutex::new(VecDeque::new()),
            capacity: capacity.max(1),
            task: AtomicWaker::new(),
        }
    }

    /// Queues `message`; gives it back if the queue is full.
    pub fn push(&self, message: Message) -> Result<(), Message> {
        {
            let mut messages = self.messages.lock().expect("queue lock");
            if messages.len() >= self.capacity {
                return Err(message);
            }
            messages.push_back(message);
        }
        self.task.wake();
        Ok(())
    }

    /// How many messages are waiting.
    pub fn len(&self) -> usize {
        self.messages.lock().expect("queue lock").len()
    }

    /// The next message, once there is one (for the connection's task only:
    /// one waiter at a time).
    pub fn poll_pop(&self, cx: &mut Context<'_>) -> Poll<Message> {
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
        let mut messages = self.messages.lock().expect("queue lock");
        let message = messages.pop_front();
        if messages.is_empty() && messages.capacity() > KEEP_SLOTS {
            *messages = VecDeque::new();
        }
        message
    }
}

#[cfg(test)]
mod tests {
    use std::future::poll_fn;

    use super::*;

    #[test]
    fn a_full_queue_gives_the_message_back() {
        let queue = OutboundQueue::new(2);
        assert!(queue.push(Message::text("a")).is_ok());
        assert!(queue.push(Message::text("b")).is_ok());
        assert_eq!(queue.push(Message::text("c")), Err(Message::text("c")));
        assert_eq!(queue.len(), 2);
    }

    #[tokio::test]
    async fn messages_come_out_in_order_and_a_push_wakes_the_task() {
        let queue = std::sync::Arc::new(OutboundQueue::new(4));
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
