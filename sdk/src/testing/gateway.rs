//! The test's handle on the fake gateway: running events, arranging what the
//! gateway knows, reading what the handler asked of it.

use std::collections::BTreeSet;
use std::marker::PhantomData;
use std::rc::Rc;

use super::fake::{self, Fake};
use super::{Connect, Context};
use crate::bindings::wsgate::gateway::types as wit;
use crate::event::find;
use crate::export::dispatch;
use crate::http::{HttpError, Response};
use crate::{Accept, Disconnect, Error, EventType, Handler, Message, Payload, Reject, SendError};

/// An in-memory gateway for this thread's tests: it runs a handler's events
/// and answers every call the handler makes to the gateway, recording them.
///
/// `Gateway::new()` installs a fresh one for the current thread (each test
/// runs on its own thread, so tests do not share it); a newer one replaces
/// it, and dropping it removes it. Its methods take `&self`: the handler
/// reaches the same state through the SDK while an event runs.
///
/// What it answers, like the real gateway:
///
/// - a connection exists once the test adds it ([`add_connection`](Self::add_connection),
///   [`add_member`](Self::add_member)) or an event of it runs; it is removed
///   (and leaves its groups) when its `$connect` refuses it, and before its
///   `$disconnect` runs. `send`, `close`, `info` and `groups::join` to any
///   other connection answer [`SendError::Gone`];
/// - groups keep their members in id order, so `groups::members` pages are
///   stable; a group send reaches its members but `exclude`, a broadcast
///   every connection but `exclude`;
/// - kv buckets start empty and keep what the test and the handler put in
///   them; `increment` works on decimal text; bucket names are checked as
///   the gateway checks them;
/// - config has the values the test set;
/// - outbound HTTP is refused with [`HttpError::Denied`] unless the test
///   answers it ([`respond_http`](Self::respond_http)).
#[must_use = "the fake gateway is removed when the Gateway is dropped"]
pub struct Gateway {
    /// Which installed fake is this one's.
    owner: u64,
    /// Not `Send`: the fake lives in this thread's storage.
    _thread: PhantomData<Rc<()>>,
}

impl Default for Gateway {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        fake::uninstall(self.owner);
    }
}

impl Gateway {
    /// A fresh fake gateway, installed for the current thread.
    pub fn new() -> Self {
        Self {
            owner: fake::install(),
            _thread: PhantomData,
        }
    }

    fn with<R>(&self, f: impl FnOnce(&mut Fake) -> R) -> R {
        fake::with_owned(self.owner, f)
    }

    /// Runs `H`'s `$connect` as the gateway would: the connection exists
    /// while the handler decides, and is removed again if it refuses.
    ///
    /// Panics unless `ctx` is a [`Context::connect`].
    pub fn connect<H: Handler>(&self, ctx: &Context, request: &Connect) -> Result<Accept, Reject> {
        let event = ctx.lend(EventType::Connect);
        self.with(|fake| fake.register(ctx.info()));
        let decision = H::on_connect(&event, &request.lend());
        if decision.is_err() {
            self.with(|fake| fake.unregister(ctx.connection()));
        }
        decision
    }

    /// Runs a message of `H` as the gateway would: to the function
    /// [`Handler::ROUTES`] names for the context's route key, else to
    /// [`Handler::on_message`]. The connection exists while it runs.
    ///
    /// Panics unless `ctx` is a [`Context::message`].
    pub fn message<H: Handler>(
        &self,
        ctx: &Context,
        payload: impl Into<Payload>,
    ) -> Result<Option<Payload>, Error> {
        let event = ctx.lend(EventType::Message);
        self.with(|fake| fake.register(ctx.info()));
        dispatch::<H>(&event, Message::new(payload))
    }

    /// Runs `H`'s `$disconnect` as the gateway would: the connection is
    /// already gone (out of its groups too) when the handler runs.
    ///
    /// Panics unless `ctx` is a [`Context::disconnect`].
    pub fn disconnect<H: Handler>(&self, ctx: &Context, end: Disconnect) -> Result<(), Error> {
        let event = ctx.lend(EventType::Disconnect);
        self.with(|fake| fake.unregister(ctx.connection()));
        H::on_disconnect(&event, end)
    }

    /// Makes connection `id` exist (with default info: no context, times 0).
    pub fn add_connection(&self, id: &str) {
        self.with(|fake| {
            if !fake.connections.contains_key(id) {
                fake.register(wit::ConnectionInfo {
                    connection_id: id.to_owned(),
                    connected_at: 0,
                    last_active_at: 0,
                    source_ip: String::new(),
                    user_agent: String::new(),
                    context: Vec::new(),
                });
            }
        });
    }

    /// Makes connection `id` exist, as [`add_connection`](Self::add_connection)
    /// does, and a member of `group`.
    pub fn add_member(&self, group: &str, id: &str) {
        self.add_connection(id);
        self.with(|fake| {
            fake.groups
                .entry(group.to_owned())
                .or_default()
                .insert(id.to_owned());
        });
    }

    /// Makes the next `send`, group send or broadcast fail with `error`
    /// (whatever its target) and deliver nothing; called again, it fails
    /// the sends after that one too, in order.
    pub fn fail_next_send(&self, error: SendError) {
        self.with(|fake| fake.failures.push_back(error));
    }

    /// Sets `key` of `bucket` to `value`, as a handler would.
    pub fn kv_set(&self, bucket: &str, key: &str, value: impl AsRef<[u8]>) {
        self.with(|fake| {
            fake.buckets
                .entry(bucket.to_owned())
                .or_default()
                .insert(key.to_owned(), value.as_ref().to_vec());
        });
    }

    /// Lets the handler open only these buckets, as a route's `buckets` list
    /// does: any other answers [`KvError::AccessDenied`](crate::kv::KvError::AccessDenied).
    /// Every bucket is allowed until this is called.
    pub fn allow_buckets(&self, buckets: &[&str]) {
        let allowed: BTreeSet<String> = buckets.iter().map(|name| (*name).to_owned()).collect();
        self.with(|fake| fake.allowed_buckets = Some(allowed));
    }

    /// Sets the configuration value `key`, as the route's `config` table in
    /// `wsgate.toml` would.
    pub fn config(&self, key: &str, value: impl Into<String>) {
        let value = value.into();
        self.with(|fake| fake.config.insert(key.to_owned(), value));
    }

    /// Answers every outbound HTTP request from now on with `responder`,
    /// which sees the request as the handler sent it. Without one, requests
    /// are refused with [`HttpError::Denied`].
    ///
    /// ```
    /// use wsgate_sdk::http::{Request, Response};
    /// use wsgate_sdk::testing::Gateway;
    ///
    /// let gateway = Gateway::new();
    /// gateway.respond_http(|request| {
    ///     assert_eq!(request.url, "http://backend/ping");
    ///     Ok(Response::new(200).with_body("pong"))
    /// });
    /// let response = Request::get("http://backend/ping").send().unwrap();
    /// assert_eq!(response.text(), "pong");
    /// ```
    pub fn respond_http(
        &self,
        responder: impl Fn(&HttpRequest) -> Result<Response, HttpError> + 'static,
    ) {
        self.with(|fake| fake.responder = Some(Rc::new(responder)));
    }

    /// Every message connection `id` was sent, in order: directly, to one of
    /// its groups or by broadcast.
    pub fn sent_to(&self, id: &str) -> Vec<Payload> {
        self.with(|fake| fake.deliveries.get(id).cloned().unwrap_or_default())
    }

    /// Every group send, in order: group, message and the connection
    /// excluded.
    pub fn group_sends(&self) -> Vec<(String, Payload, Option<String>)> {
        self.with(|fake| fake.group_sends.clone())
    }

    /// Every broadcast, in order: message and the connection excluded.
    pub fn broadcasts(&self) -> Vec<(Payload, Option<String>)> {
        self.with(|fake| fake.broadcasts.clone())
    }

    /// Every connection closed, in order: id, close code and reason.
    pub fn closed(&self) -> Vec<(String, u16, String)> {
        self.with(|fake| fake.closed.clone())
    }

    /// The members of `group`, in id order.
    pub fn members(&self, group: &str) -> Vec<String> {
        self.with(|fake| {
            fake.groups
                .get(group)
                .map(|members| members.iter().cloned().collect())
                .unwrap_or_default()
        })
    }

    /// The value of `key` in `bucket`, if set.
    pub fn kv_get(&self, bucket: &str, key: &str) -> Option<Vec<u8>> {
        self.with(|fake| fake.buckets.get(bucket)?.get(key).cloned())
    }

    /// Every outbound HTTP request the handler sent, refused ones too, in
    /// order.
    pub fn http_requests(&self) -> Vec<HttpRequest> {
        self.with(|fake| fake.http_requests.clone())
    }
}

/// An outbound HTTP request a handler sent, as the fake gateway got it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequest {
    /// The method, in upper case.
    pub method: String,
    /// The URL, as given to the request.
    pub url: String,
    /// The headers, in order.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl HttpRequest {
    /// The first value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        find(&self.headers, |key| key.eq_ignore_ascii_case(name))
    }
}
