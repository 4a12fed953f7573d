//! A connection's life after the handshake, in one task: it reads and routes
//! each message in order, writes the outbound queue and the route responses
//! (through its [`Writer`]), keeps the timers, and when the connection ends for
//! any reason runs `$disconnect` exactly once.

mod rate;
mod resume;
mod socket;
mod timers;
mod writer;

use std::future::{Future, pending, poll_fn};
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::StreamExt;
use hyper::upgrade::OnUpgrade;
use tokio::sync::OwnedSemaphorePermit;
use tokio::time::{Instant, Sleep, sleep, sleep_until};
use tokio_tungstenite::tungstenite::{self, Message};

use rate::RateGuard;
pub use socket::READ_BUFFER;
use socket::{Socket, open};
use timers::{Alarm, Timers};
use writer::Writer;

use super::Pipeline;

use crate::clock::now_ms;
use crate::connection::{
    BINARY_REFUSED, CloseInitiator, Connection, DisconnectInfo, Resume, Session, acknowledged,
    ending,
};
use crate::event::Payload;
use crate::routing::Delivery;

/// How long a closing connection waits for the client's close frame, and then
/// for its queue to flush, before the socket is dropped.
const CLOSE_GRACE: Duration = Duration::from_secs(2);

/// How long the answer to a client's own message may wait for the socket
/// before the client counts as not reading.
const REPLY_GRACE: Duration = Duration::from_secs(5);

/// Runs an accepted connection to its end, then its `$disconnect`. `permit`
/// holds the connection's place under the connection limit until then.
///
/// Not an `async fn`: its own state (a copy of every argument) would add to
/// the task of every idle connection.
pub fn run(
    pipeline: Arc<Pipeline>,
    connection: Arc<Connection>,
    upgrade: OnUpgrade,
    permit: OwnedSemaphorePermit,
) -> impl Future<Output = ()> + Send {
    run_from(pipeline, connection, upgrade, permit, false)
}

/// Runs a connection taken over from another node (its session claimed)
/// from the client's resume after frame `last_seq`, like [`run`].
pub async fn run_resumed(
    pipeline: Arc<Pipeline>,
    connection: Arc<Connection>,
    upgrade: OnUpgrade,
    permit: OwnedSemaphorePermit,
    last_seq: u64,
) {
    let _listed = pipeline.sessions.enter(&connection);
    connection.attach(last_seq);
    pipeline.metrics.resumed();
    run_from(pipeline, connection, upgrade, permit, true).await;
}

/// [`run`], on a socket that resumed the connection if `resumed`.
///
/// An `async` block, not an `async fn`: an `async fn` keeps each argument
/// twice in its state (its slot and the local it is bound to), in the task
/// of every idle connection.
#[expect(
    clippy::manual_async_fn,
    reason = "an async fn's state is larger, measured with -Zprint-type-sizes"
)]
fn run_from(
    pipeline: Arc<Pipeline>,
    connection: Arc<Connection>,
    upgrade: OnUpgrade,
    permit: OwnedSemaphorePermit,
    resumed: bool,
) -> impl Future<Output = ()> + Send {
    async move {
        let info = attachments(&pipeline, &connection, upgrade, resumed).await;
        if let Some(session) = connection.session() {
            if !session.is_resumable() {
                pipeline.metrics.resume_buffer_overflowed();
            }
            if session.end() {
                // Parked in the cluster: it ends where it is resumed, or
                // where its window passes.
                tracing::debug!(connection = %connection.id(), "parked for another node");
                return;
            }
        }
        tracing::debug!(connection = %connection.id(), code = info.code, initiator = info.initiator.as_str(), "disconnected");
        // Boxed, like `$connect`: only a connection that ends needs their state.
        Box::pin(pipeline.registry.unregister(connection.id())).await;
        Box::pin(pipeline.router.disconnect(&connection, info)).await;
        drop(permit);
    }
}

/// How one socket of a connection ended.
enum Served {
    /// The connection ended.
    Ended(DisconnectInfo),
    /// The socket dropped and the connection is detached, waiting for its
    /// client to resume (the reliable subprotocol).
    Detached(DisconnectInfo),
    /// The client resumed on a new socket before this one was seen to drop.
    Superseded(Resume),
}

/// Serves the connection on its socket and, on the reliable subprotocol, on
/// every socket it is resumed on; says how it ended.
async fn attachments(
    pipeline: &Pipeline,
    connection: &Arc<Connection>,
    mut upgrade: OnUpgrade,
    mut resumed: bool,
) -> DisconnectInfo {
    loop {
        // Boxed: the upgrade's and the handshake's state would otherwise sit
        // beside `serve`'s in the task of every idle connection.
        let socket = Box::pin(open(upgrade, &pipeline.limits)).await;
        let served = match socket {
            Ok(mut socket) => serve(pipeline, connection, &mut socket).await,
            Err(error) => {
                let info = DisconnectInfo {
                    code: 1006,
                    reason: format!("the upgrade did not complete: {error}"),
                    initiator: CloseInitiator::Client,
                };
                // A resumed client can come back again; a new one never knew its token.
                match resumed && connection.session().is_some_and(|session| session.detach()) {
                    true => Served::Detached(info),
                    false => Served::Ended(info),
                }
            }
        };
        let resume = match served {
            Served::Ended(info) => return info,
            Served::Superseded(resume) => resume,
            Served::Detached(info) => {
                match Box::pin(resume::detached(pipeline, connection)).await {
                    Some(resume) => resume,
                    None => return resume::expired(connection, info),
                }
            }
        };
        // Closed meanwhile: the resumed socket is dropped unanswered.
        if let Some(request) = connection.close_state().request_made() {
            return request.info;
        }
        connection.attach(resume.last_seq);
        pipeline.metrics.resumed();
        upgrade = resume.upgrade;
        resumed = true;
    }
}

/// Reads, routes and writes until the connection ends; says how it ended.
///
/// While a handler runs the socket is not read (a connection's events are
/// handled in order), but the writer keeps draining the outbound queue; while
/// a reply waits for the socket, nothing more is read either, which slows a
/// client that sends faster than it reads to its reading pace.
async fn serve(pipeline: &Pipeline, connection: &Arc<Connection>, socket: &mut Socket) -> Served {
    let limits = &pipeline.limits;
    let session = connection.session();
    let mut writer = Writer::new(connection.outbound(), &pipeline.metrics);
    let mut timers = Timers::new(limits);
    let mut rate = RateGuard::new(limits);
    let mut client_close = None;
    let mut failure = None;
    // Timers on the heap, made when needed: a `Sleep` in the task itself
    // would size every idle connection (see `expiry`).
    let mut closing: Option<Timer> = None;
    let mut reply_deadline: Option<Timer> = None;
    let mut handling = None;
    // Registered once, not on every turn of the loop.
    let mut close_requested = pin!(connection.close_state().requested());
    loop {
        let reading = handling.is_none() && !writer.has_reply();
        let delivery = tokio::select! {
            biased;
            () = &mut close_requested, if closing.is_none() => {
                closing = Some(Box::pin(sleep(CLOSE_GRACE)));
                continue;
            }
            // A handler in flight finishes first: dropping it would lose its instance.
            () = expiry(&mut closing), if closing.is_some() && handling.is_none() => break,
            // The client came back on a new socket: this one is dead.
            resume = poll_fn(|cx| session.map_or(Poll::Pending, |session| session.poll_takeover(cx))),
                if session.is_some() && handling.is_none() => return Served::Superseded(resume),
            alarm = timers.next(connection), if closing.is_none() => {
                match alarm {
                    Alarm::Ping => {
                        let _ = connection.ping();
                    }
                    // An unanswered ping is a network drop, which a session survives.
                    Alarm::Close(_, CloseInitiator::PingTimeout) if session.is_some() => break,
                    Alarm::Close(reason, initiator) => connection.close(Timers::close_code(), reason, initiator),
                }
                continue;
            }
            delivery = finish(&mut handling), if handling.is_some() => {
                handling = None;
                delivery
            }
            () = expiry(&mut reply_deadline), if writer.has_reply() => {
                writer.drop_reply();
                connection.close_too_slow();
                continue;
            }
            next = poll_fn(|cx| poll_socket(&mut writer, &mut *socket, reading, cx)) => {
                let message = match next {
                    None => break,
                    Some(Err(error)) => {
                        failure = Some(error);
                        break;
                    }
                    Some(Ok(message)) => message,
                };
                timers.heard_from_client();
                if let (Some(session), Message::Text(text)) = (session, &message)
                    && let Some(seq) = acknowledged(text)
                {
                    session.acknowledge(seq);
                    connection.touch(now_ms());
                    continue;
                }
                let payload = match message {
                    Message::Text(text) => Payload::Text(text),
                    Message::Binary(_) if !limits.binary_messages => {
                        let (code, reason) = BINARY_REFUSED;
                        connection.close(code, reason, CloseInitiator::Server);
                        continue;
                    }
                    Message::Binary(bytes) => Payload::Binary(bytes),
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
                let now = now_ms();
                connection.touch(now);
                if connection.close_state().is_requested() {
                    continue;
                }
                // Refused or not, the router records it; a refusal's frame
                // comes back as `Delivery::Throttled`.
                let within_rate = rate.admit();
                // Boxed: the handler call's state lives on the heap only while
                // it runs, which keeps every idle connection's task small.
                let mut call = Box::pin(pipeline.router.message(connection, payload, now, within_rate));
                // Most handlers answer without waiting: answering now spares
                // the loop a turn (and its wakers) per message.
                match poll_fn(|cx| Poll::Ready(call.as_mut().poll(cx))).await {
                    Poll::Ready(delivery) => delivery,
                    Poll::Pending => {
                        handling = Some(call);
                        continue;
                    }
                }
            }
        };
        let reply = match delivery {
            Delivery::Handled(reply) => reply,
            Delivery::Throttled(frame) => {
                rate.refuse(connection, frame);
                None
            }
        };
        // A parked connection is closing too, but its reply is still owed.
        let parked = session.is_some_and(Session::is_parked);
        let Some(reply) = reply.filter(|_| parked || !connection.close_state().is_requested())
        else {
            continue;
        };
        if let Some(reply) = connection.number(reply, |frame| writer.reply(frame)) {
            // Sealed for another node meanwhile: the reply goes where it went.
            let _ = pipeline.registry.send(connection.id(), reply).await;
            continue;
        }
        // Usually the socket takes it at once; only then is no timer needed.
        let _ = poll_fn(|cx| Poll::Ready(writer.poll_write(&mut *socket, cx))).await;
        if writer.has_reply() {
            // Made once, then reset: a slow reader waits on many replies.
            let deadline = Instant::now() + REPLY_GRACE;
            match &mut reply_deadline {
                Some(timer) => timer.as_mut().reset(deadline),
                None => reply_deadline = Some(Box::pin(sleep_until(deadline))),
            }
        }
    }

    let info = ending(connection, client_close, failure);
    if resume::detachable(&info) && session.is_some_and(|session| session.detach()) {
        return Served::Detached(info);
    }
    // Send what is queued (and a protocol-error close frame); a client that
    // does not read cannot hold the socket open.
    connection.close(info.code, &info.reason, info.initiator);
    let flushed = poll_fn(|cx| writer.poll_drain(&mut *socket, cx));
    let _ = tokio::time::timeout(CLOSE_GRACE, flushed).await;
    Served::Ended(info)
}

/// Drives the writer, then reads the next message if `reading`. What was
/// written is flushed only when no message is ready: the answers to
/// pipelined messages then leave together, as the baseline's do.
fn poll_socket(
    writer: &mut Writer<'_>,
    socket: &mut Socket,
    reading: bool,
    cx: &mut Context<'_>,
) -> Poll<Option<Result<Message, tungstenite::Error>>> {
    // Ready only once writing is over: after the close frame the task learns
    // the end from reading; after a failed write, from the writer.
    let _ = writer.poll_write(socket, cx);
    if let Some(error) = writer.take_failure() {
        return Poll::Ready(Some(Err(error)));
    }
    if reading && let Poll::Ready(next) = socket.poll_next_unpin(cx) {
        return Poll::Ready(next);
    }
    writer.poll_flush(socket, cx);
    Poll::Pending
}

/// The handler call in flight, to its end.
async fn finish<F: Future + Unpin>(handling: &mut Option<F>) -> F::Output {
    match handling {
        Some(call) => call.await,
        None => pending().await,
    }
}

/// A deadline of the connection's task.
type Timer = Pin<Box<Sleep>>;

/// Waits for `timer` to expire; forever without one. Only a reference to the
/// timer lives in the task's `select!`, whose branches all take room in the
/// task of every connection, idle or not.
async fn expiry(timer: &mut Option<Timer>) {
    match timer {
        Some(timer) => timer.as_mut().await,
        None => pending().await,
    }
}
