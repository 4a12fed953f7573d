//! The no-gateway baseline: a plain tokio-tungstenite echo server, tuned like
//! the gateway (TCP_NODELAY, the same maximum message size and read buffer, a
//! multi-threaded runtime with one worker per core), that also broadcasts, so
//! that fan-out has a baseline too.
//!
//! Each connection is one task: the echoes of its messages and the broadcasts
//! addressed to it are merged into one stream forwarded to the socket, which
//! flushes whenever no more are ready: the cheapest way to echo that still
//! lets other connections push.

use std::collections::HashMap;
use std::future::ready;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use futures_util::{StreamExt, stream};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

/// A text message starting with this is sent to every connection instead of
/// being echoed.
pub const BROADCAST: &str = "broadcast:";

/// The gateway's default maximum message size, applied here too.
const MAX_MESSAGE: usize = 128 * 1024;

/// Messages queued for one connection, as in the gateway's default.
const QUEUE: usize = 1024;

/// The senders of every connection's push queue.
#[derive(Default)]
struct Hub {
    next_id: AtomicU64,
    connections: Mutex<HashMap<u64, mpsc::Sender<Message>>>,
}

impl Hub {
    fn add(&self, sender: mpsc::Sender<Message>) -> u64 {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        self.connections
            .lock()
            .expect("hub lock")
            .insert(id, sender);
        id
    }

    fn remove(&self, id: u64) {
        self.connections.lock().expect("hub lock").remove(&id);
    }

    fn broadcast(&self, message: &Message) {
        for sender in self.connections.lock().expect("hub lock").values() {
            let _ = sender.try_send(message.clone());
        }
    }

    /// What to answer a client's message with: itself, or nothing for a
    /// broadcast (sent to everyone instead) and control frames.
    fn answer(&self, message: Message) -> Option<Message> {
        match &message {
            Message::Text(text) if text.starts_with(BROADCAST) => {
                self.broadcast(&message);
                None
            }
            Message::Text(_) | Message::Binary(_) => Some(message),
            _ => None,
        }
    }
}

/// Serves WebSocket clients on `listener` until the process ends, reading
/// with a `read_buffer` of that many bytes.
pub async fn serve(listener: TcpListener, read_buffer: usize) {
    let hub = Arc::new(Hub::default());
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        tokio::spawn(connection(stream, Arc::clone(&hub), read_buffer));
    }
}

async fn connection(stream: TcpStream, hub: Arc<Hub>, read_buffer: usize) {
    let config = WebSocketConfig::default()
        .max_message_size(Some(MAX_MESSAGE))
        .max_frame_size(Some(MAX_MESSAGE))
        .read_buffer_size(read_buffer);
    let Ok(ws) = tokio_tungstenite::accept_async_with_config(stream, Some(config)).await else {
        return;
    };
    let (sink, source) = ws.split();
    let (sender, mut pushed) = mpsc::channel(QUEUE);
    let id = hub.add(sender);

    let answers = {
        let hub = Arc::clone(&hub);
        source
            .take_while(|frame| ready(matches!(frame, Ok(message) if !message.is_close())))
            .filter_map(move |frame| ready(frame.ok().and_then(|message| hub.answer(message))))
    };
    // The stream ends when the client's does (the `None` marker); pushes
    // alone never keep a connection open.
    let client_ended = stream::once(ready(None));
    let pushes = stream::poll_fn(move |cx| pushed.poll_recv(cx)).map(Some);
    let _ = stream::select(answers.map(Some).chain(client_ended), pushes)
        .take_while(|message| ready(message.is_some()))
        .filter_map(ready)
        .map(Ok)
        .forward(sink)
        .await;
    hub.remove(id);
}
