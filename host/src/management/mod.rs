//! The management listener (loopback by default): the `@connections` API that
//! backends push to clients through, AWS-compatible so the AWS SDKs work with
//! just an `endpoint_url`, plus `GET /health`, `GET /ready` and `GET /metrics`.
//!
//! The listener is hardened like the client listener (the same header-read
//! and keep-alive timeout and head-size limit, [`listener::http1`]) and has a
//! connection cap of its own, so it can never starve the client port.
//!
//! A request's way through: [`endpoint`] names the operation (404, 405 or 400
//! otherwise), [`auth`] checks the bearer token or SigV4 signature on the
//! head ([`sigv4`], 401/403), the body is read up to its limit ([`payload`],
//! 413) and a signature's payload hash checked against it, and
//! [`connections`] or [`groups`] carries it out through the
//! [`Registry`](crate::registry::Registry). Every error leaves as an AWS-style
//! [`response::ApiError`].

mod auth;
mod connections;
mod endpoint;
mod groups;
mod payload;
mod response;
mod routes;
mod sigv4;

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderValue, header};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

pub use auth::Credentials;

use connections::MAX_BATCH;
use endpoint::{Operation, Query};
use response::{ApiError, ApiResponse};

use crate::connection::random_token;
use crate::gateway::Gateway;
use crate::observability::metrics;
use crate::server::{listener, probes};

/// Serves management requests until the process ends, on at most
/// `api_max_connections` connections at once: one more is closed as soon as
/// it is accepted, which costs nothing and frees its file descriptor at once
/// (answering 503 would mean reading its request first, under its own
/// timeout, while it holds the descriptor), so the API can never exhaust the
/// descriptors the client port needs; HTTP clients retry a closed connection.
pub async fn serve(listener: TcpListener, gateway: Arc<Gateway>) {
    let slots = Arc::new(Semaphore::new(
        gateway
            .settings
            .api_max_connections
            .min(Semaphore::MAX_PERMITS),
    ));
    loop {
        let (stream, remote) = listener::accept(&listener).await;
        let Ok(slot) = Arc::clone(&slots).try_acquire_owned() else {
            tracing::debug!(%remote, "management connection refused: api_max_connections reached");
            continue;
        };
        let gateway = Arc::clone(&gateway);
        tokio::spawn(async move {
            let http = listener::http1(&gateway.settings.admission);
            let service = service_fn(move |request: Request<Incoming>| {
                let gateway = Arc::clone(&gateway);
                async move { Ok::<_, Infallible>(respond(&gateway, request).await) }
            });
            if let Err(error) = http.serve_connection(TokioIo::new(stream), service).await {
                tracing::debug!(%remote, %error, "management connection ended with an error");
            }
            // The slot is held for as long as the connection lives.
            drop(slot);
        });
    }
}

async fn respond(gateway: &Gateway, request: Request<Incoming>) -> ApiResponse {
    let probe = matches!(request.uri().path(), "/health" | "/ready" | "/metrics");
    match (request.method(), request.uri().path()) {
        (&Method::GET, "/health") => return probes::health(),
        (&Method::GET, "/ready") => {
            return probes::ready(
                &gateway.shutdown,
                gateway.registry.as_ref(),
                gateway.key_value.as_ref(),
            );
        }
        (&Method::GET, "/metrics") => return metrics_text(gateway),
        _ if probe => return ApiError::method_not_allowed("GET").into_response(),
        _ => {}
    }
    let mut response = api(gateway, request)
        .await
        .unwrap_or_else(ApiError::into_response);
    gateway.metrics.api_request(response.status().as_u16());
    let request_id =
        HeaderValue::from_str(&random_token::<12>()).expect("a token is a valid header");
    response
        .headers_mut()
        .insert("x-amzn-RequestId", request_id);
    response
}

/// An `@connections`, `@groups` or `@broadcast` request.
async fn api(gateway: &Gateway, request: Request<Incoming>) -> Result<ApiResponse, ApiError> {
    let (parts, body) = request.into_parts();
    let settings = &gateway.settings;
    let operation = Operation::parse(&parts.method, &parts.uri, &settings.stage)?;
    let limit = match operation {
        // The JSON of one payload for many ids: ids, escaping or base64 on top.
        Operation::PostBatch => 8 * settings.connection.max_message_size + 64 * MAX_BATCH,
        _ => settings.connection.max_message_size,
    };
    // Decided on the head: a request without valid credentials is answered
    // before its body is read, and hyper then closes the connection rather
    // than read it.
    let authorized = settings.api_credentials.authenticate(&parts)?;
    let body = payload::read(body, limit).await?;
    authorized.verify_body(&body)?;
    let query = Query::of(&parts.uri);
    let registry = gateway.registry.as_ref();
    match operation {
        Operation::PostToConnection(id) => connections::post(registry, &id, &query, body).await,
        Operation::GetConnection(id) => connections::get(registry, &id).await,
        Operation::DeleteConnection(id) => connections::delete(registry, &id, &query).await,
        Operation::ListConnections => connections::list(registry, &query).await,
        Operation::PostBatch => {
            connections::post_batch(registry, settings.connection.max_message_size, &body).await
        }
        Operation::Broadcast => groups::broadcast(registry, &query, body).await,
        Operation::PostToGroup(group) => groups::post(registry, &group, &query, body).await,
        Operation::ListMembers(group) => groups::members(registry, &group, &query).await,
        Operation::AddMember(group, id) => groups::add(registry, &group, &id).await,
        Operation::RemoveMember(group, id) => groups::remove(registry, &group, &id).await,
        Operation::ListRoutes => Ok(routes::list(&gateway.router.table())),
    }
}

fn metrics_text(gateway: &Gateway) -> ApiResponse {
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, metrics::CONTENT_TYPE)
        .body(Full::new(Bytes::from(gateway.metrics.render())))
        .expect("a metrics response is valid")
}
