use super::{Connect, Context, Gateway};
use crate::http::{HttpError, Request, Response};
use crate::kv::{Bucket, KvError};
use crate::{
    Accept, ConnectRequest, Disconnect, Error, ErrorKind, Handler, Initiator, Message, Payload,
    Reject, RequestContext, Routes, SendError, close, config, groups, info, send,
};

#[test]
fn an_unknown_connection_is_gone() {
    let _gateway = Gateway::new();
    assert_eq!(send("nobody", "hi"), Err(SendError::Gone));
    assert_eq!(close("nobody", 1000, "bye"), Err(SendError::Gone));
    assert_eq!(info("nobody").err(), Some(SendError::Gone));
    assert_eq!(groups::join("room", "nobody"), Err(SendError::Gone));
}

#[test]
fn a_known_connection_is_sent_to_closed_and_described() {
    let gateway = Gateway::new();
    gateway.add_connection("c2");
    send("c2", "one").unwrap();
    send("c2", vec![2]).unwrap();
    close("c2", 4000, "bye").unwrap();
    assert_eq!(info("c2").unwrap().connection_id(), "c2");
    assert_eq!(
        gateway.sent_to("c2"),
        [Payload::from("one"), Payload::from(vec![2])]
    );
    assert_eq!(gateway.closed(), [("c2".into(), 4000, "bye".into())]);
}

#[test]
fn the_event_s_own_connection_is_known_with_its_context() {
    struct Describe;
    impl Handler for Describe {
        fn on_message(ctx: &RequestContext, _: Message) -> Result<Option<Payload>, Error> {
            let me = info(ctx.connection_id())?;
            Ok(Some(
                format!("{} {}", me.source_ip(), me.get("user").unwrap_or("-")).into(),
            ))
        }
    }
    let gateway = Gateway::new();
    let ctx = Context::message("$default")
        .connection_id("c1")
        .source_ip("10.0.0.7")
        .context("user", "ann");
    let reply = gateway.message::<Describe>(&ctx, "who am I?").unwrap();
    assert_eq!(reply, Some("10.0.0.7 ann".into()));
}

#[test]
fn a_told_failure_fails_the_next_send_only() {
    let gateway = Gateway::new();
    gateway.add_member("room", "c1");
    gateway.fail_next_send(SendError::Unavailable);
    gateway.fail_next_send(SendError::Throttled);
    assert_eq!(send("c1", "lost"), Err(SendError::Unavailable));
    assert_eq!(
        groups::send("room", "lost", None),
        Err(SendError::Throttled)
    );
    groups::broadcast("kept", None).unwrap();
    assert_eq!(gateway.sent_to("c1"), [Payload::from("kept")]);
    assert!(gateway.group_sends().is_empty());
}

#[test]
fn a_group_send_skips_the_excluded_and_a_broadcast_reaches_every_connection() {
    let gateway = Gateway::new();
    gateway.add_member("room", "a");
    gateway.add_member("room", "b");
    gateway.add_connection("outsider");
    groups::send("room", "to the room", Some("a")).unwrap();
    groups::broadcast("to all", Some("b")).unwrap();
    assert_eq!(gateway.sent_to("a"), [Payload::from("to all")]);
    assert_eq!(gateway.sent_to("b"), [Payload::from("to the room")]);
    assert_eq!(gateway.sent_to("outsider"), [Payload::from("to all")]);
    assert_eq!(
        gateway.group_sends(),
        [(
            "room".into(),
            Payload::from("to the room"),
            Some("a".into())
        )]
    );
    assert_eq!(
        gateway.broadcasts(),
        [(Payload::from("to all"), Some("b".into()))]
    );
}

#[test]
fn members_come_in_stable_pages_after_the_cursor() {
    let gateway = Gateway::new();
    for id in ["e", "c", "a", "d", "b"] {
        gateway.add_connection(id);
        groups::join("room", id).unwrap();
    }
    let first = groups::members("room", None, 2);
    assert_eq!(first.ids, ["a", "b"]);
    assert_eq!(first.next_cursor.as_deref(), Some("b"));
    let second = groups::members("room", first.next_cursor.as_deref(), 2);
    assert_eq!(second.ids, ["c", "d"]);
    let last = groups::members("room", second.next_cursor.as_deref(), 2);
    assert_eq!(last.ids, ["e"]);
    assert_eq!(last.next_cursor, None);
    // A limit of 0 is taken as 1, as the gateway does.
    assert_eq!(groups::members("room", None, 0).ids, ["a"]);

    groups::leave("room", "c");
    assert_eq!(gateway.members("room"), ["a", "b", "d", "e"]);
}

#[test]
fn increment_adds_to_decimal_text_and_refuses_anything_else() {
    let gateway = Gateway::new();
    gateway.kv_set("counters", "visits", "41");
    gateway.kv_set("counters", "name", "ann");
    gateway.kv_set("counters", "full", u64::MAX.to_string());
    let counters = Bucket::open("counters").unwrap();
    assert_eq!(counters.increment("visits", 1), Ok(42));
    assert_eq!(counters.increment("fresh", 5), Ok(5));
    assert_eq!(gateway.kv_get("counters", "visits"), Some(b"42".to_vec()));
    assert!(matches!(
        counters.increment("name", 1),
        Err(KvError::Other(_))
    ));
    assert!(matches!(
        counters.increment("full", 1),
        Err(KvError::Other(_))
    ));
    assert_eq!(gateway.kv_get("counters", "name"), Some(b"ann".to_vec()));
}

#[test]
fn a_bucket_keeps_what_the_test_and_the_handler_put_in_it() {
    let gateway = Gateway::new();
    gateway.kv_set("chat", "lobby/c1", "ann");
    let chat = Bucket::open("chat").unwrap();
    chat.set_many(&[("lobby/c2".into(), b"bob".to_vec())])
        .unwrap();
    chat.set("hall/c3", "cy").unwrap();
    assert_eq!(chat.keys().unwrap(), ["hall/c3", "lobby/c1", "lobby/c2"]);
    assert_eq!(
        chat.get_many(&["lobby/c1".into(), "gone".into()]).unwrap(),
        [Some(b"ann".to_vec()), None]
    );
    chat.delete_many(&["hall/c3".into()]).unwrap();
    chat.delete("lobby/c1").unwrap();
    assert!(!chat.exists("lobby/c1").unwrap());
    assert_eq!(chat.get_text("lobby/c2").unwrap().as_deref(), Some("bob"));
    assert_eq!(gateway.kv_get("chat", "hall/c3"), None);
}

#[test]
fn a_bucket_outside_the_allowed_ones_is_denied() {
    let gateway = Gateway::new();
    assert!(Bucket::open("anything").is_ok());
    gateway.allow_buckets(&["chat"]);
    assert!(Bucket::open("chat").is_ok());
    assert_eq!(Bucket::open("other").err(), Some(KvError::AccessDenied));
    assert!(matches!(Bucket::open("no spaces"), Err(KvError::Other(_))));
}

#[test]
fn config_has_the_values_the_test_set() {
    let gateway = Gateway::new();
    gateway.config("room_size", "10");
    gateway.config("backend_url", "http://backend");
    assert_eq!(config::get("room_size").as_deref(), Some("10"));
    assert_eq!(config::get("missing"), None);
    assert!(config::require("missing").is_err());
    assert_eq!(
        config::all(),
        [
            ("backend_url".into(), "http://backend".into()),
            ("room_size".into(), "10".into())
        ]
    );
}

#[test]
fn http_is_denied_unless_the_test_responds() {
    let gateway = Gateway::new();
    assert_eq!(
        Request::get("http://backend:9000/ping").send().err(),
        Some(HttpError::Denied {
            host: "backend:9000".into()
        })
    );
    assert!(matches!(
        Request::get("ftp://backend").send(),
        Err(HttpError::InvalidRequest(_))
    ));
    gateway.respond_http(|request| {
        assert_eq!(request.method, "POST");
        assert_eq!(request.header("Content-Type"), Some("application/json"));
        Ok(Response::new(201)
            .with_header("location", "/events/1")
            .with_body(request.body.clone()))
    });
    let response = Request::post("http://backend/events", r#"{"n":1}"#)
        .header("content-type", "application/json")
        .send()
        .unwrap();
    assert_eq!(response.status(), 201);
    assert_eq!(response.header("Location"), Some("/events/1"));
    assert_eq!(response.text(), r#"{"n":1}"#);
    let urls: Vec<String> = gateway
        .http_requests()
        .into_iter()
        .map(|request| request.url)
        .collect();
    assert_eq!(urls, ["http://backend:9000/ping", "http://backend/events"]);
}

/// Answers which function handled a message.
struct Routed;

impl Handler for Routed {
    const ROUTES: Routes = &[("join", Routed::join)];

    fn on_message(ctx: &RequestContext, _: Message) -> Result<Option<Payload>, Error> {
        Ok(Some(format!("on_message {}", ctx.route_key()).into()))
    }
}

impl Routed {
    fn join(_: &RequestContext, message: Message) -> Result<Option<Payload>, Error> {
        let room = message
            .text()
            .ok_or_else(|| Error::bad_request("a room name"))?;
        Ok(Some(format!("join {room}").into()))
    }
}

#[test]
fn routes_go_to_their_function_and_the_rest_to_on_message() {
    let gateway = Gateway::new();
    let joined = gateway.message::<Routed>(&Context::message("join"), "lobby");
    assert_eq!(joined, Ok(Some("join lobby".into())));
    let refused = gateway.message::<Routed>(&Context::message("join"), vec![1]);
    assert_eq!(refused.unwrap_err().kind(), ErrorKind::BadRequest);
    let other = gateway.message::<Routed>(&Context::message("$default"), "x");
    assert_eq!(other, Ok(Some("on_message $default".into())));
}

/// Says what its events carry, and sends to itself on `$disconnect`.
struct Echoing;

impl Handler for Echoing {
    fn on_connect(ctx: &RequestContext, request: &ConnectRequest) -> Result<Accept, Reject> {
        groups::join("everyone", ctx.connection_id())?;
        match request.query("refuse") {
            Some(status) => Err(Reject::new(status.parse().unwrap(), "refused")),
            None => Ok(Accept::new()),
        }
    }

    fn on_disconnect(ctx: &RequestContext, _end: Disconnect) -> Result<(), Error> {
        Ok(send(ctx.connection_id(), "too late")?)
    }
}

#[test]
fn a_refused_connect_leaves_no_connection_behind() {
    let gateway = Gateway::new();
    let ctx = Context::connect().connection_id("c1");
    let refused = gateway.connect::<Echoing>(&ctx, &Connect::new().query("refuse", "403"));
    assert_eq!(refused.unwrap_err().status(), 403);
    assert!(gateway.members("everyone").is_empty());
    assert_eq!(send("c1", "hi"), Err(SendError::Gone));

    assert!(gateway.connect::<Echoing>(&ctx, &Connect::new()).is_ok());
    assert_eq!(gateway.members("everyone"), ["c1"]);
}

#[test]
fn disconnect_runs_after_the_connection_is_gone() {
    let gateway = Gateway::new();
    gateway.add_member("everyone", "c1");
    let end = Disconnect::new(1000, "", Initiator::Client);
    let sent = gateway.disconnect::<Echoing>(&Context::disconnect().connection_id("c1"), end);
    assert_eq!(sent.unwrap_err().message(), SendError::Gone.to_string());
    assert!(gateway.members("everyone").is_empty());
}

#[test]
fn getters_answer_the_given_values_and_keep_them() {
    let ctx = Context::message("sendmessage")
        .connection_id("c1")
        .request_id("r1")
        .message_id("m1")
        .connected_at(1_000)
        .request_time(2_000)
        .source_ip("10.0.0.7")
        .user_agent("curl/8")
        .domain_name("chat.example")
        .stage("prod")
        .context("room", "lobby")
        .context("name", "ann")
        .lend(crate::EventType::Message);
    assert_eq!(ctx.event_type(), crate::EventType::Message);
    assert_eq!(ctx.route_key(), "sendmessage");
    assert_eq!(ctx.connection_id(), "c1");
    assert_eq!(ctx.request_id(), "r1");
    assert_eq!(ctx.message_id(), Some("m1"));
    assert_eq!(ctx.connected_at(), 1_000);
    assert_eq!(ctx.request_time(), 2_000);
    assert_eq!(ctx.source_ip(), "10.0.0.7");
    assert_eq!(ctx.user_agent(), "curl/8");
    assert_eq!(ctx.domain_name(), "chat.example");
    assert_eq!(ctx.stage(), "prod");
    assert_eq!(ctx.get("name"), Some("ann"));
    assert_eq!(ctx.get("missing"), None);
    assert_eq!(ctx.connection_context().len(), 2);
    // Read again, a getter hands out the very same text: it is kept.
    assert!(std::ptr::eq(ctx.route_key(), ctx.route_key()));

    let connect = Context::connect().lend(crate::EventType::Connect);
    assert_eq!(connect.route_key(), "$connect");
    assert_eq!(connect.message_id(), None);

    let request = Connect::new()
        .path("/chat")
        .header("Authorization", "Bearer abc")
        .header("X-Two", "1")
        .header("x-two", "2")
        .query("room", "lobby")
        .subprotocol("chat.v2")
        .subprotocol("chat.v1")
        .lend();
    assert_eq!(request.method(), "GET");
    assert_eq!(request.path(), "/chat");
    assert_eq!(request.header("authorization"), Some("Bearer abc"));
    assert_eq!(request.header("X-TWO"), Some("1"));
    assert_eq!(request.headers()[0].0, "authorization");
    assert_eq!(request.query("room"), Some("lobby"));
    assert_eq!(request.query("Room"), None);
    assert_eq!(request.subprotocols(), ["chat.v2", "chat.v1"]);
}

#[test]
#[should_panic(expected = "not of a message one")]
fn an_event_runs_only_with_a_context_of_its_kind() {
    let gateway = Gateway::new();
    let _ = gateway.message::<Routed>(&Context::connect(), "x");
}

#[test]
fn a_new_gateway_starts_empty_and_the_old_one_is_replaced() {
    let old = Gateway::new();
    old.add_connection("c1");
    old.kv_set("b", "k", "v");
    let gateway = Gateway::new();
    assert_eq!(send("c1", "hi"), Err(SendError::Gone));
    assert_eq!(gateway.kv_get("b", "k"), None);
    // Dropping the replaced one leaves the new one installed.
    drop(old);
    gateway.add_connection("c1");
    assert_eq!(send("c1", "hi"), Ok(()));
}

#[test]
#[should_panic(expected = "no wsgate_sdk::testing::Gateway on this thread")]
fn the_sdk_needs_a_gateway_off_wasm() {
    let gateway = Gateway::new();
    drop(gateway);
    let _ = send("c1", "hi");
}
