//! The WebSocket upgrade: validating the request, running `$connect` before
//! answering it, and handing an accepted connection to its task.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Response, StatusCode, header};
use http_body_util::Full;
use hyper::Request;
use hyper::body::Incoming;
use hyper::upgrade::OnUpgrade;
use tokio::sync::{OwnedSemaphorePermit, oneshot};
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;

use super::sessions::{Reliability, SessionEntry, TakeOver, take_over};
use super::{ClientContext, Pipeline, task};
use crate::connection::{Connection, Peer, RELIABLE_SUBPROTOCOL};
use crate::event::{ConnectRequest, query_fields};
use crate::routing::ConnectDecision;
use crate::server::probes;

/// Whether a request asks for a WebSocket upgrade.
pub fn is_upgrade<B>(request: &Request<B>) -> bool {
    header_is(request.headers(), header::UPGRADE, "websocket")
}

/// A 426 naming WebSocket as the protocol to upgrade to: RFC 9110 §15.5.22
/// requires the `Upgrade` header, and §7.8 its listing in `Connection`.
pub fn upgrade_required(body: String) -> Response<Full<Bytes>> {
    let mut response = probes::text(StatusCode::UPGRADE_REQUIRED, body);
    let headers = response.headers_mut();
    headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    headers.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
    response
}

/// Answers an upgrade request: 101 if `$connect` accepts, its status otherwise.
pub async fn upgrade(
    context: &ClientContext,
    mut request: Request<Incoming>,
    remote: SocketAddr,
) -> Response<Full<Bytes>> {
    let key = match validate(&request) {
        Ok(key) => key,
        Err(response) => return response,
    };
    let pipeline = &context.pipeline;
    if context.shutdown.is_draining() {
        pipeline.metrics.connection_rejected(503);
        return probes::text(StatusCode::SERVICE_UNAVAILABLE, "shutting down\n");
    }
    if let Some(reason) = pipeline.registry.unavailable() {
        pipeline.metrics.connection_rejected(503);
        return probes::text(StatusCode::SERVICE_UNAVAILABLE, format!("{reason}\n"));
    }
    let connect = connect_request(&request);
    let reliability = Reliability::of(&connect);
    let mut on_upgrade = hyper::upgrade::on(&mut request);
    let mut admitted = false;
    if let Reliability::Resume { token, last_seq } = &reliability {
        if let Err(refusal) = context.admission.admit_resume(request.headers()) {
            pipeline
                .metrics
                .connection_rejected(refusal.status().as_u16());
            return refusal;
        }
        match pipeline.sessions.resume(token, *last_seq, on_upgrade) {
            Ok(connection) => {
                tracing::debug!(connection = %connection.id(), last_seq, "resumed");
                let subprotocol = connection.session().and_then(|s| s.subprotocol());
                return switching_protocols(&key, subprotocol.as_deref(), HeaderMap::new());
            }
            // Another node may have parked it as it stopped.
            Err(upgrade) => match take_over(context, token, *last_seq, upgrade).await {
                TakeOver::Resumed(subprotocol) => {
                    return switching_protocols(&key, subprotocol.as_deref(), HeaderMap::new());
                }
                TakeOver::Refused(refusal) => {
                    pipeline
                        .metrics
                        .connection_rejected(refusal.status().as_u16());
                    return refusal;
                }
                TakeOver::Fresh(upgrade) => {
                    // Accepted as a new connection, whose greeting says it was not resumed.
                    pipeline.metrics.resume_refused();
                    on_upgrade = upgrade;
                    admitted = true;
                }
            },
        }
    }
    let admission = match admitted {
        true => context.admission.place(),
        false => context.admission.admit(request.headers()),
    };
    let permit = match admission {
        Ok(permit) => permit,
        Err(response) => {
            pipeline
                .metrics
                .connection_rejected(response.status().as_u16());
            return response;
        }
    };
    let headers = request.headers();
    let header = |name: header::HeaderName| {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    let peer = Peer {
        source_ip: remote.ip().to_string(),
        user_agent: header(header::USER_AGENT),
        domain_name: header(header::HOST),
    };

    // From here on the connection belongs to its own task: hyper drops this
    // future when the client vanishes, at any point of `$connect`, and the
    // task still ends what `$connect` accepted exactly once.
    let (answer, answered) = oneshot::channel();
    let establish = establish(Box::new(Establishing {
        pipeline: Arc::clone(pipeline),
        peer,
        connect,
        reliable: !matches!(reliability, Reliability::Off),
        key,
        on_upgrade,
        permit,
        answer,
    }));
    context.shutdown.spawn_connection(establish);
    answered.await.unwrap_or_else(|_| {
        probes::text(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the connection ended during $connect\n",
        )
    })
}

/// What a connection's task starts from.
struct Establishing {
    pipeline: Arc<Pipeline>,
    peer: Peer,
    connect: ConnectRequest,
    /// Whether the client offered the reliable subprotocol.
    reliable: bool,
    /// The client's `Sec-WebSocket-Key`.
    key: String,
    on_upgrade: OnUpgrade,
    permit: OwnedSemaphorePermit,
    /// Where the answer to the upgrade request goes.
    answer: oneshot::Sender<Response<Full<Bytes>>>,
}

/// A connection's task: registers it, runs `$connect`, hands the answer to
/// the upgrade request, and runs an accepted connection to its `$disconnect`.
/// A client that is gone before the answer reaches it fails the upgrade, which
/// the task ends as a connection lost by the client.
async fn establish(establishing: Box<Establishing>) {
    // Boxed, like every call before and after the connection's life: held
    // inline, what `$connect` needs would size every idle connection's task
    // (3.6 KiB it was). Bound from a temporary, so that nothing but what the
    // connection's life needs stays in the task.
    let Some(Accepted {
        pipeline,
        connection,
        on_upgrade,
        permit,
        listed: _listed,
    }) = Box::pin(accept(establishing)).await
    else {
        return;
    };
    task::run(pipeline, connection, on_upgrade, permit).await;
}

/// A connection `$connect` accepted, and what its life needs.
struct Accepted {
    pipeline: Arc<Pipeline>,
    connection: Arc<Connection>,
    on_upgrade: OnUpgrade,
    permit: OwnedSemaphorePermit,
    /// Listed under its resume token until the task ends: only then can no
    /// client resume it (none without the reliable subprotocol).
    listed: Option<SessionEntry>,
}

/// Registers the connection, runs `$connect` and answers the upgrade
/// request; the connection if it was accepted.
async fn accept(establishing: Box<Establishing>) -> Option<Accepted> {
    let Establishing {
        pipeline,
        peer,
        connect,
        reliable,
        key,
        on_upgrade,
        permit,
        answer,
    } = *establishing;
    let id = pipeline.registry.new_id();
    let mut connection = Connection::new(id, peer, &pipeline.limits);
    if reliable {
        connection = connection.reliable(pipeline.limits.resume);
    }
    let connection = Arc::new(connection);
    Box::pin(pipeline.registry.register(Arc::clone(&connection))).await;
    match Box::pin(pipeline.router.connect(&connection, connect)).await {
        ConnectDecision::Accept {
            subprotocol,
            context,
            headers,
        } => {
            connection.set_context(context);
            let listed = pipeline.sessions.enter(&connection);
            let subprotocol = match connection.session() {
                Some(session) => {
                    let chosen = subprotocol.or_else(|| Some(RELIABLE_SUBPROTOCOL.to_owned()));
                    session.set_subprotocol(chosen.clone());
                    connection.greet();
                    chosen
                }
                None => subprotocol,
            };
            let _ = answer.send(switching_protocols(&key, subprotocol.as_deref(), headers));
            Some(Accepted {
                pipeline,
                connection,
                on_upgrade,
                permit,
                listed,
            })
        }
        ConnectDecision::Reject {
            status,
            headers,
            body,
        } => {
            Box::pin(pipeline.registry.unregister(connection.id())).await;
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let mut rejection = Response::new(Full::new(body));
            *rejection.status_mut() = status;
            *rejection.headers_mut() = headers;
            let _ = answer.send(rejection);
            None
        }
    }
}

/// Checks the upgrade request; returns its `Sec-WebSocket-Key`.
#[allow(clippy::result_large_err)]
fn validate<B>(request: &Request<B>) -> Result<String, Response<Full<Bytes>>> {
    let headers = request.headers();
    if request.method() != http::Method::GET {
        return Err(probes::text(
            StatusCode::METHOD_NOT_ALLOWED,
            "a WebSocket upgrade must use GET\n",
        ));
    }
    if !header_is(headers, header::CONNECTION, "upgrade") {
        return Err(probes::text(
            StatusCode::BAD_REQUEST,
            "missing `Connection: Upgrade`\n",
        ));
    }
    if headers.get(header::SEC_WEBSOCKET_VERSION) != Some(&HeaderValue::from_static("13")) {
        let mut response = upgrade_required("unsupported WebSocket version: use 13\n".into());
        response.headers_mut().insert(
            header::SEC_WEBSOCKET_VERSION,
            HeaderValue::from_static("13"),
        );
        return Err(response);
    }
    headers
        .get(header::SEC_WEBSOCKET_KEY)
        .and_then(|key| key.to_str().ok())
        .map(str::to_owned)
        .ok_or_else(|| probes::text(StatusCode::BAD_REQUEST, "missing `Sec-WebSocket-Key`\n"))
}

/// The `$connect` event's view of the upgrade request.
fn connect_request<B>(request: &Request<B>) -> ConnectRequest {
    let headers = request
        .headers()
        .iter()
        .filter_map(|(name, value)| {
            Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned()))
        })
        .collect();
    let query = query_fields(request.uri());
    let subprotocols = request
        .headers()
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(|protocol| protocol.trim().to_owned())
        .filter(|protocol| !protocol.is_empty())
        .collect();
    ConnectRequest {
        method: request.method().to_string(),
        path: request.uri().path().to_owned(),
        headers,
        query,
        subprotocols,
    }
}

fn switching_protocols(
    key: &str,
    subprotocol: Option<&str>,
    headers: HeaderMap,
) -> Response<Full<Bytes>> {
    let mut response = Response::builder()
        .status(StatusCode::SWITCHING_PROTOCOLS)
        .header(header::CONNECTION, "Upgrade")
        .header(header::UPGRADE, "websocket")
        .header(
            header::SEC_WEBSOCKET_ACCEPT,
            derive_accept_key(key.as_bytes()),
        );
    if let Some(protocol) = subprotocol {
        response = response.header(header::SEC_WEBSOCKET_PROTOCOL, protocol);
    }
    let mut response = response
        .body(Full::default())
        .expect("a 101 response is valid");
    // The handler's own, checked by the router: none is a handshake header.
    response.headers_mut().extend(headers);
    response
}

/// Whether a comma-separated header contains `token` (case-insensitively).
fn header_is(headers: &HeaderMap, name: header::HeaderName, token: &str) -> bool {
    headers.get_all(name).iter().any(|value| {
        value
            .to_str()
            .map(|value| {
                value
                    .split(',')
                    .any(|part| part.trim().eq_ignore_ascii_case(token))
            })
            .unwrap_or(false)
    })
}
