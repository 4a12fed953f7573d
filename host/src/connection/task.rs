//! A connection's life after the handshake: the read loop routes each message
//! in order, the writer drains the outbound queue, and when the connection ends
//! for any reason `$disconnect` runs exactly once.

use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use hyper::upgrade::{OnUpgrade, Upgraded};
use hyper_util::rt::TokioIo;
use tokio::sync::OwnedSemaphorePermit;
use tokio::time::{Instant, sleep_until};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::error::ProtocolError;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::{self, Message};

use super::timers::{Alarm, Timers};
use super::{Connection, OutboundQueue, now_ms};
use crate::config::ConnectionLimits;
use crate::event::{CloseInitiator, DisconnectInfo, Payload};
use crate::gateway::Gateway;
use crate::limits::{Strikes, TokenBucket};
use crate::metrics::Metrics;
use crate::router::{Delivery, ErrorFrame, error_frame};

/// How long a closing connection waits for the client's close frame, and for
/// its writer to flush, before the socket is dropped.
const CLOSE_GRACE: Duration = Duration::from_secs(2);

/// How long the answer to a client's own message may wait for room in its
/// outbound queue before the client counts as not reading.
const REPLY_GRACE: Duration = Duration::from_secs(5);

/// Bytes read from the socket at a time. Tungstenite allocates and touches this
/// much for every connection, idle or not, so it is small: measured with 10k
/// idle connections, 4 KiB cost 11.6 KiB per connection and 1 KiB 8.7 KiB
/// (debug build). Larger frames grow the buffer as they arrive, read in chunks
/// of this size.
const READ_BUFFER: usize = 2 * 1024;

/// Bytes buffered before a write reaches the socket (the writer also flushes
/// whenever its queue runs dry).
const WRITE_BUFFER: usize = 8 * 1024;

type Socket = WebSocketStream<TokioIo<Upgraded>>;

/// Runs an accepted connection to its end, then its `$disconnect`. `permit`
/// holds the connection's place under the connection limit until then.
pub async fn run(
    gateway: Arc<Gateway>,
    connection: Arc<Connection>,
    upgrade: OnUpgrade,
    queue: OutboundQueue,
    permit: OwnedSemaphorePermit,
) {
    let info = match upgrade.await {
        Ok(upgraded) => {
            let limits = &gateway.settings.connection;
            let config = WebSocketConfig::default()
                .read_buffer_size(READ_BUFFER)
                .write_buffer_size(WRITE_BUFFER)
                .max_write_buffer_size(WRITE_BUFFER + 2 * limits.max_message_size)
                .max_message_size(Some(limits.max_message_size))
                .max_frame_size(Some(limits.max_frame_size));
            let socket = WebSocketStream::from_raw_socket(
                TokioIo::new(upgraded),
                Role::Server,
                Some(config),
            )
            .await;
            serve(&gateway, &connection, socket, queue).await
        }
        Err(error) => DisconnectInfo {
            code: 1006,
            reason: format!("the upgrade did not complete: {error}"),
            initiator: CloseInitiator::Client,
        },
    };
    tracing::debug!(connection = %connection.id(), code = info.code, initiator = info.initiator.as_str(), "disconnected");
    gateway.registry.unregister(connection.id()).await;
    gateway.router.disconnect(&connection, info).await;
    drop(permit);
}

/// Reads and routes messages until the connection ends; says how it ended.
async fn serve(
    gateway: &Gateway,
    connection: &Connection,
    socket: Socket,
    queue: OutboundQueue,
) -> DisconnectInfo {
    let limits = &gateway.settings.connection;
    let (sink, mut stream) = socket.split();
    let mut writer = tokio::spawn(write_queue(sink, queue, Arc::clone(&gateway.metrics)));
    let mut timers = Timers::new(limits);
    let mut rate = RateGuard::new(limits);
    let mut client_close = None;
    let mut failure = None;
    let mut closing_deadline: Option<Instant> = None;
    loop {
        let next = tokio::select! {
            biased;
            _ = connection.close_state().requested(), if closing_deadline.is_none() => {
                let grace = if connection.close_state().is_abort() { Duration::ZERO } else { CLOSE_GRACE };
                closing_deadline = Some(Instant::now() + grace);
                continue;
            }
            _ = sleep_until(closing_deadline.unwrap_or_else(Instant::now)), if closing_deadline.is_some() => break,
            alarm = timers.next(connection), if closing_deadline.is_none() => {
                match alarm {
                    Alarm::Ping => {
                        let _ = connection.ping();
                    }
                    Alarm::Close(reason, initiator) => connection.close(Timers::close_code(), reason, initiator),
                }
                continue;
            }
            next = stream.next() => next,
        };
        let message = match next {
            None => break,
            Some(Err(error)) => {
                failure = Some(error);
                break;
            }
            Some(Ok(message)) => message,
        };
        timers.heard_from_client();
        let payload = match message {
            Message::Text(text) => Payload::Text(text.as_str().to_owned()),
            Message::Binary(bytes) => Payload::Binary(bytes.into()),
            Message::Close(frame) => {
                client_close = Some(frame.map_or((1005, String::new()), |frame| {
                    (frame.code.into(), frame.reason.as_str().to_owned())
                }));
                continue;
            }
            Message::Ping(_) => {
                connection.touch(now_ms());
                continue;
            }
            Message::Pong(_) | Message::Frame(_) => continue,
        };
        connection.touch(now_ms());
        if connection.close_state().is_requested() {
            continue;
        }
        if !rate.admit(connection) {
            continue;
        }
        // Boxed: the handler call's state lives on the heap only while it runs,
        // which keeps every idle connection's task small.
        match Box::pin(gateway.router.message(connection, payload)).await {
            Delivery::Handled(reply) => {
                if let Some(reply) = reply {
                    connection.reply(reply, REPLY_GRACE).await;
                }
            }
            Delivery::Throttled(frame) => rate.refuse(connection, frame),
        }
    }

    let info = ending(connection, client_close, failure);
    // Let the writer send what is queued (and a protocol-error close frame),
    // then stop it; a client that does not read cannot hold the socket open.
    connection.close(info.code, &info.reason, info.initiator);
    if tokio::time::timeout(CLOSE_GRACE, &mut writer)
        .await
        .is_err()
    {
        writer.abort();
    }
    info
}

/// A connection's own rate limit, and the count of refusals in a row that
/// turns a burst into abuse.
struct RateGuard {
    bucket: Option<TokenBucket>,
    strikes: Strikes,
}

impl RateGuard {
    fn new(limits: &ConnectionLimits) -> Self {
        RateGuard {
            bucket: limits.rate.map(TokenBucket::new),
            strikes: Strikes::new(limits.close_after_throttled),
        }
    }

    /// Whether the connection may send this message now; if not, the client
    /// has been told.
    fn admit(&mut self, connection: &Connection) -> bool {
        if self.bucket.as_ref().is_none_or(TokenBucket::allow) {
            self.strikes.clear();
            return true;
        }
        self.refuse(
            connection,
            error_frame(connection, ErrorFrame::TooManyRequests),
        );
        false
    }

    /// Tells the client it is over a limit; closes it (1008) when it keeps on.
    fn refuse(&mut self, connection: &Connection, frame: Message) {
        let _ = connection.send(frame);
        if self.strikes.strike() {
            connection.close(1008, "rate limit exceeded", CloseInitiator::Server);
        }
    }
}

/// How the connection ended: a close someone asked for, a protocol failure,
/// the client's close frame, or a dropped connection, in that order.
fn ending(
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

/// Sends queued messages in order, flushing whenever the queue runs dry.
async fn write_queue(
    mut sink: futures_util::stream::SplitSink<Socket, Message>,
    mut queue: OutboundQueue,
    metrics: Arc<Metrics>,
) {
    while let Some(message) = queue.recv().await {
        let last = message.is_close();
        if message.is_text() || message.is_binary() {
            metrics.bytes_out(message.len());
        }
        if sink.feed(message).await.is_err() {
            return;
        }
        if (last || queue.is_empty()) && sink.flush().await.is_err() {
            return;
        }
        if last {
            return;
        }
    }
}
