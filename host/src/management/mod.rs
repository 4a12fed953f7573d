//! The management listener (loopback by default): the `@connections` API that
//! backends push to clients through, AWS-compatible so the AWS SDKs work with
//! just an `endpoint_url`, plus `GET /health`, `GET /ready`, `GET /metrics`
//! ([`metrics`], in the format the scraper's `Accept` header prefers) and the
//! operator's web [`console`] at `GET /console`, whose live tail of the
//! access log is `GET /@tail` ([`tail`]).
//!
//! The listener runs the HTTP loop both ports share
//! ([`listener::serve_http`]: the same header-read and keep-alive timeout and
//! head-size limit, but no upgrades) and has a connection cap of its own, so it can never
//! starve the client port. It sees only its [`ApiContext`]: the registry, the
//! router's table, the metrics, the readiness probe and its own settings.
//!
//! A request's way through: [`endpoint`] names the operation (404, 405 or 400
//! otherwise), [`auth`] checks the bearer token or SigV4 signature on the
//! head ([`sigv4`], 401/403), the body is read up to its limit ([`payload`],
//! 413) and a signature's payload hash checked against it, and
//! [`connections`], [`listing`], [`groups`], [`routes`] or [`tail`]
//! carries it out through the
//! [`Registry`](crate::registry::Registry). Every error leaves as an AWS-style
//! [`response::ApiError`].

mod auth;
mod connections;
mod console;
mod endpoint;
mod groups;
mod listing;
mod metrics;
mod payload;
mod response;
mod routes;
mod sigv4;
mod tail;

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http::HeaderValue;
use http_body_util::BodyExt;
use http_body_util::combinators::UnsyncBoxBody;
use hyper::body::Incoming;
use hyper::{Method, Request, Response};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

pub use auth::Credentials;

use connections::MAX_BATCH;
use endpoint::{Operation, Query};
use response::ApiError;

use crate::connection::random_token;
use crate::observability::extensions::ExtensionNotices;
use crate::observability::metrics::Metrics;
use crate::registry::Registry;
use crate::routing::Router;
use crate::server::listener::{self, HttpLimits, Port};
use crate::server::probes::{self, Readiness};

/// A management response's body: whole, or streamed (the live tail).
pub type ApiBody = UnsyncBoxBody<Bytes, Infallible>;

/// What the management API sees of the gateway.
pub struct ApiContext {
    /// Where connections live.
    pub registry: Arc<dyn Registry>,
    /// The router, whose route table and swaps `GET /@routes` lists and
    /// whose live tail `GET /@tail` streams.
    pub router: Arc<Router>,
    /// Counters and histograms for `GET /metrics`.
    pub metrics: Arc<Metrics>,
    /// `GET /ready`.
    pub readiness: Readiness,
    /// The listener's own settings.
    pub settings: ApiSettings,
    /// Where a use of an endpoint API Gateway lacks is reported (`--compat
    /// aws`); none: not reported.
    pub extension_notices: Option<Arc<ExtensionNotices>>,
}

/// The management listener's settings.
#[derive(Clone, Debug)]
pub struct ApiSettings {
    /// Most simultaneous management connections.
    pub max_connections: usize,
    /// Request head limits, as on the client port.
    pub http: HttpLimits,
    /// The stage name in `@connections` paths.
    pub stage: String,
    /// Largest message a request may send.
    pub max_message_size: usize,
    /// Who may use the API.
    pub credentials: Credentials,
}

/// Serves management requests until the process ends, on at most
/// `max_connections` connections at once: one more is closed as soon as
/// it is accepted, which costs nothing and frees its file descriptor at once
/// (answering 503 would mean reading its request first, under its own
/// timeout, while it holds the descriptor), so the API can never exhaust the
/// descriptors the client port needs; HTTP clients retry a closed connection.
pub async fn serve(listener: TcpListener, api: Arc<ApiContext>) {
    let slots = Arc::new(Semaphore::new(
        api.settings.max_connections.min(Semaphore::MAX_PERMITS),
    ));
    loop {
        let (stream, remote) = listener::accept(&listener).await;
        let Ok(slot) = Arc::clone(&slots).try_acquire_owned() else {
            tracing::debug!(%remote, "management connection refused: api_max_connections reached");
            continue;
        };
        let api = Arc::clone(&api);
        tokio::spawn(async move {
            let limits = api.settings.http;
            let respond = move |request| {
                let api = Arc::clone(&api);
                async move { respond(&api, request).await }
            };
            listener::serve_http(stream, remote, limits, Port::Management, respond).await;
            // The slot is held for as long as the connection lives.
            drop(slot);
        });
    }
}

async fn respond(api: &ApiContext, request: Request<Incoming>) -> Response<ApiBody> {
    let path = request.uri().path();
    let probe = matches!(path, "/health" | "/ready" | "/metrics");
    let whole = match (request.method(), path) {
        (&Method::GET, "/health") => Some(probes::health()),
        (&Method::GET, "/ready") => Some(api.readiness.respond()),
        (&Method::GET, "/metrics") => Some(metrics::respond(&api.metrics, request.headers())),
        _ if probe => Some(ApiError::method_not_allowed("GET").into_response()),
        // The page and its scripts hold no data: no credentials needed.
        (method, path) if console::serves(path) => Some(console::respond(method, path)),
        _ => None,
    };
    if let Some(response) = whole {
        return response.map(BodyExt::boxed_unsync);
    }
    let mut response = operate(api, request)
        .await
        .unwrap_or_else(|error| error.into_response().map(BodyExt::boxed_unsync));
    api.metrics.api_request(response.status().as_u16());
    let request_id =
        HeaderValue::from_str(&random_token::<12>()).expect("a token is a valid header");
    response
        .headers_mut()
        .insert("x-amzn-RequestId", request_id);
    response
}

/// An `@…` request.
async fn operate(
    api: &ApiContext,
    request: Request<Incoming>,
) -> Result<Response<ApiBody>, ApiError> {
    let (parts, body) = request.into_parts();
    let settings = &api.settings;
    let operation = Operation::parse(&parts.method, &parts.uri, &settings.stage)?;
    let limit = match operation {
        // The JSON of one payload for many ids: ids, escaping or base64 on top.
        Operation::PostBatch => 8 * settings.max_message_size + 64 * MAX_BATCH,
        _ => settings.max_message_size,
    };
    // Decided on the head: a request without valid credentials is answered
    // before its body is read, and hyper then closes the connection rather
    // than read it.
    let authorized = settings.credentials.authenticate(&parts)?;
    let body = payload::read(body, limit).await?;
    authorized.verify_body(&body)?;
    if let (Some(notices), Some(endpoint)) = (&api.extension_notices, operation.extension()) {
        notices.used("the management API", endpoint);
    }
    let query = Query::of(&parts.uri);
    let registry = api.registry.as_ref();
    let whole = match operation {
        Operation::Tail => {
            let filter = tail::TailFilter::of(&query)?;
            return tail::respond(api.router.tail(), filter);
        }
        Operation::PostToConnection(id) => connections::post(registry, &id, &query, body).await,
        Operation::GetConnection(id) => connections::get(registry, &id).await,
        Operation::DeleteConnection(id) => connections::delete(registry, &id, &query).await,
        Operation::ListConnections => listing::list(registry, &query).await,
        Operation::PostBatch => {
            connections::post_batch(registry, settings.max_message_size, &body).await
        }
        Operation::Broadcast => groups::broadcast(registry, &query, body).await,
        Operation::PostToGroup(group) => groups::post(registry, &group, &query, body).await,
        Operation::ListMembers(group) => groups::members(registry, &group, &query).await,
        Operation::AddMember(group, id) => groups::add(registry, &group, &id).await,
        Operation::RemoveMember(group, id) => groups::remove(registry, &group, &id).await,
        Operation::ListGroups => groups::list(registry, &query).await,
        Operation::ListRoutes => Ok(routes::list(&api.router.table(), api.router.swaps())),
    }?;
    Ok(whole.map(BodyExt::boxed_unsync))
}
