//! `GET /@tail[?route=…&connection=…&status=…]`: the live tail of the access
//! log as server-sent events (`text/event-stream`), for the console or
//! `curl -N`. Each record the filters let through is one `data:` event
//! holding the access log's JSON line; `event: lost` says how many records a
//! watcher too slow to keep up lost; a comment every [`KEEP_ALIVE`] keeps
//! proxies from closing a quiet stream and finds out when its reader has
//! gone (the write fails, the stream is dropped and stops watching).
//!
//! Filtering happens here, on the watcher's side of the
//! [`LiveTail`](crate::observability::live_tail::LiveTail): the events'
//! path pays nothing for it.

use std::convert::Infallible;
use std::pin::Pin;
use std::time::Duration;

use tokio::time::{Instant, Sleep};

use bytes::Bytes;
use futures_util::stream;
use http::{Response, header};
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;

use super::ApiBody;
use super::endpoint::Query;
use super::response::ApiError;
use crate::observability::live_tail::{LiveTail, MAX_WATCHERS, TailLine, Tailed, Watcher};

/// How long a stream may stay silent before a comment is sent.
pub const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// Which records a watcher wants.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TailFilter {
    route: Option<String>,
    connection: Option<String>,
    status: Option<StatusFilter>,
}

/// A status, exactly (`429`) or by class (`4xx`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum StatusFilter {
    Exactly(u16),
    Class(u16),
}

impl TailFilter {
    /// The filter a request's `route`, `connection` and `status` ask for
    /// (an empty parameter filters nothing); a status that is neither three
    /// digits nor a digit and `xx` is a 400.
    pub fn of(query: &Query) -> Result<Self, ApiError> {
        let given = |name| query.get(name).filter(|value| !value.is_empty());
        let status = given("status")
            .map(|status| {
                let class = status.strip_suffix("xx").filter(|class| class.len() == 1);
                let parsed = match class {
                    Some(class) => class.parse().ok().map(StatusFilter::Class),
                    None if status.len() == 3 => status.parse().ok().map(StatusFilter::Exactly),
                    None => None,
                };
                parsed.filter(|filter| match filter {
                    StatusFilter::Exactly(status) => (100..600).contains(status),
                    StatusFilter::Class(class) => (1..6).contains(class),
                })
            })
            .map(|parsed| {
                parsed.ok_or_else(|| {
                    ApiError::bad_request("status must be a status (429) or a class (4xx)")
                })
            })
            .transpose()?;
        Ok(TailFilter {
            route: given("route").map(str::to_owned),
            connection: given("connection").map(str::to_owned),
            status,
        })
    }

    /// Whether `line` passes. A swap has no connection and no status, so a
    /// filter on either leaves swaps out.
    pub fn passes(&self, line: &TailLine) -> bool {
        let route = self.route.as_ref().is_none_or(|route| *route == line.route);
        let connection = self.connection.as_ref().is_none_or(|wanted| {
            line.connection
                .as_ref()
                .is_some_and(|id| id.as_str() == wanted)
        });
        let status = self.status.is_none_or(|filter| {
            line.status.is_some_and(|status| match filter {
                StatusFilter::Exactly(wanted) => status == wanted,
                StatusFilter::Class(class) => status / 100 == class,
            })
        });
        route && connection && status
    }
}

/// The event stream of the records `filter` lets through, from now on; a
/// 429 while [`MAX_WATCHERS`] streams are open.
pub fn respond(tail: &LiveTail, filter: TailFilter) -> Result<Response<ApiBody>, ApiError> {
    let watcher = tail.watch().ok_or_else(|| {
        ApiError::limit_exceeded(format!(
            "{MAX_WATCHERS} live tails are open: close one and try again"
        ))
    })?;
    let opening = stream::once(async { event(Bytes::from_static(b": tailing\n\n")) });
    // One keep-alive timer per stream, reset after each event.
    let quiet = Box::pin(tokio::time::sleep(KEEP_ALIVE));
    let state = (watcher, filter, quiet);
    let events = stream::unfold(state, |(mut watcher, filter, mut quiet)| async move {
        let next = next_event(&mut watcher, &filter, quiet.as_mut()).await;
        Some((event(next), (watcher, filter, quiet)))
    });
    let body = StreamBody::new(futures_util::StreamExt::chain(opening, events));
    Ok(Response::builder()
        .header(header::CONTENT_TYPE, "text/event-stream")
        .header(header::CACHE_CONTROL, "no-cache")
        // Proxies that buffer responses (nginx) pass this one on as it comes.
        .header("x-accel-buffering", "no")
        .body(body.boxed_unsync())
        .expect("an event stream response is valid"))
}

fn event(bytes: Bytes) -> Result<Frame<Bytes>, Infallible> {
    Ok(Frame::data(bytes))
}

/// The next event for this watcher: a record that passes `filter`, the
/// count of those lost, or a keep-alive comment after [`KEEP_ALIVE`] of
/// silence.
async fn next_event(
    watcher: &mut Watcher,
    filter: &TailFilter,
    mut quiet: Pin<&mut Sleep>,
) -> Bytes {
    quiet.as_mut().reset(Instant::now() + KEEP_ALIVE);
    loop {
        tokio::select! {
            tailed = watcher.next() => match tailed {
                Tailed::Line(line) if filter.passes(&line) => {
                    let mut event = Vec::with_capacity(line.json.len() + 8);
                    event.extend_from_slice(b"data: ");
                    event.extend_from_slice(&line.json);
                    event.extend_from_slice(b"\n\n");
                    return Bytes::from(event);
                }
                Tailed::Line(_) => {}
                Tailed::Lost(lost) => {
                    return Bytes::from(format!("event: lost\ndata: {{\"lost\":{lost}}}\n\n"));
                }
            },
            () = quiet.as_mut() => return Bytes::from_static(b": keep-alive\n\n"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connection::ConnectionId;

    fn filter(query: &str) -> Result<TailFilter, u16> {
        let uri: http::Uri = format!("/@tail?{query}").parse().unwrap();
        TailFilter::of(&Query::of(&uri)).map_err(|error| error.status().as_u16())
    }

    fn line(route: &str, connection: Option<&str>, status: Option<u16>) -> TailLine {
        TailLine {
            json: Bytes::new(),
            route: route.to_owned(),
            connection: connection.map(ConnectionId::from),
            status,
        }
    }

    #[test]
    fn filters_on_route_connection_and_status() {
        let message = line("say", Some("abc"), Some(429));
        let swap = line("say", None, None);
        let passes = |query: &str, line: &TailLine| filter(query).unwrap().passes(line);
        assert!(passes("", &message) && passes("", &swap));
        assert!(passes("route=say&status=", &message) && passes("route=say", &swap));
        assert!(!passes("route=other", &message));
        assert!(passes("connection=abc", &message) && !passes("connection=abc", &swap));
        assert!(!passes("connection=abd", &message));
        assert!(passes("status=429", &message) && passes("status=4xx", &message));
        assert!(!passes("status=5xx", &message) && !passes("status=4xx", &swap));
        for bad in [
            "status=42",
            "status=abc",
            "status=xx",
            "status=9xx",
            "status=4xxx",
        ] {
            assert_eq!(filter(bad), Err(400), "{bad}");
        }
    }
}
