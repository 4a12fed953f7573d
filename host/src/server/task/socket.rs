//! A connection's socket: the WebSocket over the upgraded HTTP connection,
//! with the connection's limits and small buffers.

use hyper::upgrade::{OnUpgrade, Upgraded};
use hyper_util::rt::TokioIo;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};

use crate::connection::ConnectionLimits;

/// Bytes read from the socket at a time. Tungstenite allocates and touches this
/// much for every connection, idle or not, so it is small: measured with 10k
/// idle connections, 4 KiB cost 11.6 KiB per connection and 1 KiB 8.7 KiB
/// (debug build). Larger frames grow the buffer as they arrive, read in chunks
/// of this size.
pub const READ_BUFFER: usize = 2 * 1024;

/// Bytes buffered before a write reaches the socket (the writer also flushes
/// whenever nothing more is ready).
const WRITE_BUFFER: usize = 8 * 1024;

/// A client's WebSocket.
pub(super) type Socket = WebSocketStream<TokioIo<Upgraded>>;

/// The client's WebSocket once the upgrade completes: on the heap, and lent
/// to `serve` (moved by value through the async fns, it took room in the
/// task twice: an argument's slot and the local it moved to).
pub(super) async fn open(
    upgrade: OnUpgrade,
    limits: &ConnectionLimits,
) -> Result<Box<Socket>, hyper::Error> {
    let upgraded = upgrade.await?;
    let socket = WebSocketStream::from_raw_socket(
        TokioIo::new(upgraded),
        Role::Server,
        Some(socket_config(limits)),
    )
    .await;
    Ok(Box::new(socket))
}

/// The socket's settings: the connection's limits and small buffers.
fn socket_config(limits: &ConnectionLimits) -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(WRITE_BUFFER)
        .max_write_buffer_size(WRITE_BUFFER + 2 * limits.max_message_size)
        .max_message_size(Some(limits.max_message_size))
        .max_frame_size(Some(limits.max_frame_size))
}
