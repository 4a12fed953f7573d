//! The no-gateway baselines: plain tokio-tungstenite servers, tuned like the
//! gateway (TCP_NODELAY, the same maximum message and frame size and read
//! buffer, a multi-threaded runtime with one worker per core). There are two,
//! because fan-out needs a broadcast that the echo scenarios should not pay
//! for:
//!
//! - [`Baseline::Echo`], the baseline of echo, routing and idle memory: the
//!   leanest echo tokio-tungstenite allows. One task per connection, on the
//!   unsplit stream, with no channel: it feeds every text or binary message
//!   back (`poll_ready` + `start_send`) and flushes only when no next message
//!   is ready, so the answers to pipelined messages leave in one write, as the
//!   gateway's do. It stops when the client closes (once tungstenite has
//!   answered the close) or the socket fails.
//! - [`Baseline::Broadcasting`], the baseline of fan-out: the echo, plus a
//!   text message starting with [`BROADCAST`] sent to every connection
//!   instead. Each connection has a channel in a hub, for what the others
//!   push; its task merges the echoes and the pushes into one stream
//!   forwarded to the socket, flushing whenever no more are ready.

use std::collections::HashMap;
use std::future::ready;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use futures_util::{FutureExt, SinkExt, StreamExt, stream};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

/// A text message starting with this is sent to every connection of the
/// broadcasting baseline instead of being echoed.
pub const BROADCAST: &str = "broadcast:";

/// The gateway's default maximum message size, applied here too.
const MAX_MESSAGE: usize = 128 * 1024;

/// Messages queued for one connection, as in the gateway's default.
const QUEUE: usize = 1024;

/// Which baseline to serve.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Baseline {
    /// The lean echo.
    Echo,
    /// The echo that also broadcasts, for fan-out.
    Broadcasting,
}

/// Serves WebSocket clients on `listener` until the process ends, reading
/// with a `read_buffer` of that many bytes.
pub async fn serve(listener: TcpListener, baseline: Baseline, read_buffer: usize) {
    let hub = (baseline == Baseline::Broadcasting).then(|| Arc::new(Hub::default()));
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        match &hub {
            None => tokio::spawn(echo(stream, read_buffer)),
            Some(hub) => tokio::spawn(broadcasting(stream, Arc::clone(hub), read_buffer)),
        };
    }
}

/// The WebSocket handshake, with the gateway's limits.
async fn accept(stream: TcpStream, read_buffer: usize) -> Option<WebSocketStream<TcpStream>> {
    let config = WebSocketConfig::default()
        .max_message_size(Some(MAX_MESSAGE))
        .max_frame_size(Some(MAX_MESSAGE))
        .read_buffer_size(read_buffer);
    tokio_tungstenite::accept_async_with_config(stream, Some(config))
        .await
        .ok()
}

async fn echo(stream: TcpStream, read_buffer: usize) {
    let Some(mut ws) = accept(stream, read_buffer).await else {
        return;
    };
    loop {
        let next = match ws.next().now_or_never() {
            Some(next) => next,
            None => {
                if ws.flush().await.is_err() {
                    return;
                }
                ws.next().await
            }
        };
        match next {
            Some(Ok(message)) if message.is_text() || message.is_binary() => {
                if ws.feed(message).await.is_err() {
                    return;
                }
            }
            // Tungstenite answers pings and the close itself; after a close
            // the stream ends.
            Some(Ok(_)) => {}
            Some(Err(_)) | None => return,
        }
    }
}

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

async fn broadcasting(stream: TcpStream, hub: Arc<Hub>, read_buffer: usize) {
    let Some(ws) = accept(stream, read_buffer).await else {
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
