//! Reading templates, and the lines they make.

use std::sync::Arc;
use std::time::Duration;

use super::*;
use crate::connection::{
    CloseInitiator, Connection, ConnectionId, ConnectionLimits, DisconnectInfo, EventToken, Peer,
};
use crate::event::{EventType, RequestContext, RouteKey};
use crate::observability::access_log::record::Outcome;

/// The format string of a real deployment.
const AWS_CLF: &str = "$context.identity.sourceIp - - [$context.requestTime] \"$context.httpMethod $context.routeKey $context.protocol\" $context.status $context.responseLength $context.requestId $context.integrationErrorMessage";

fn connection(user_agent: &str) -> Arc<Connection> {
    let peer = Peer {
        source_ip: "10.0.3.7".into(),
        user_agent: user_agent.into(),
        domain_name: "chat.example.com".into(),
    };
    Arc::new(Connection::new(
        ConnectionId::random(),
        peer,
        &ConnectionLimits::default(),
    ))
}

fn context(
    connection: &Arc<Connection>,
    event_type: EventType,
    route_key: RouteKey,
) -> RequestContext {
    RequestContext {
        route_key,
        event_type,
        connection: Arc::clone(connection),
        message_id: (event_type == EventType::Message).then(EventToken::new),
        request_id: EventToken::new(),
        request_time: 1_748_781_005_042,
        stage: "prod",
    }
}

fn line(template: &str, record: &EventRecord<'_>, api_id: Option<&str>) -> String {
    let mut out = Vec::new();
    Template::parse(template)
        .unwrap()
        .render(record, api_id, &mut out);
    String::from_utf8(out).unwrap()
}

#[test]
fn the_aws_clf_template_writes_each_kind_of_event_as_aws_does() {
    let connection = connection("Mozilla/5.0");
    let connect = context(&connection, EventType::Connect, "$connect");
    let mut record = EventRecord::new(&connection, &connect);
    record.response_length = Some(0);
    let id = connect.request_id;
    assert_eq!(
        line(AWS_CLF, &record, None),
        format!(
            "10.0.3.7 - - [01/Jun/2025:12:30:05 +0000] \"GET $connect HTTP/1.1\" 200 0 {id} -\n"
        )
    );

    let message = context(&connection, EventType::Message, "sendmessage");
    let mut record = EventRecord::new(&connection, &message);
    record.outcome = Outcome::Trapped("the handler trapped: \"boom\"".into());
    record.response_length = Some(71);
    let id = message.request_id;
    assert_eq!(
        line(AWS_CLF, &record, None),
        format!(
            "10.0.3.7 - - [01/Jun/2025:12:30:05 +0000] \"- sendmessage -\" 500 71 {id} the handler trapped: \\\"boom\\\"\n"
        )
    );

    let disconnect = context(&connection, EventType::Disconnect, "$disconnect");
    let mut record = EventRecord::new(&connection, &disconnect);
    record.disconnect = Some(DisconnectInfo {
        code: 1001,
        reason: "going away".into(),
        initiator: CloseInitiator::Client,
    });
    let id = disconnect.request_id;
    assert_eq!(
        line(AWS_CLF, &record, None),
        format!("10.0.3.7 - - [01/Jun/2025:12:30:05 +0000] \"- $disconnect -\" 200 - {id} -\n")
    );
}

#[test]
fn a_json_template_stays_json_whatever_the_values_hold() {
    let connection = connection("agent \"x\"\n\\");
    connection.set_context(vec![("user".into(), "ann".into())]);
    let event = context(&connection, EventType::Message, "$default");
    let mut record = EventRecord::new(&connection, &event);
    record.outcome = Outcome::NoRoute;
    record.integration_latency = Some(Duration::from_micros(412));
    let template = r#"{ "requestId":"$context.requestId", "ua":"$context.identity.userAgent", "user":"$context.authorizer.user", "nobody":"$context.authorizer.nobody", "caller":"$context.identity.caller", "error":$context.error.messageString, "type":"$context.error.responseType", "latency":"$context.integrationLatency", "apiId":"$context.apiId", "stage":"$context.stage" }"#;
    let written: serde_json::Value =
        serde_json::from_str(&line(template, &record, Some("a1b2c3"))).unwrap();
    assert_eq!(
        written,
        serde_json::json!({
            "requestId": event.request_id.as_str(),
            "ua": "agent \"x\"\n\\",
            "user": "ann",
            "nobody": "-",
            "caller": "-",
            "error": "Forbidden",
            "type": "DEFAULT_4XX",
            "latency": "0.412",
            "apiId": "a1b2c3",
            "stage": "prod",
        })
    );
    record.outcome = Outcome::Status(200);
    let written: serde_json::Value = serde_json::from_str(&line(template, &record, None)).unwrap();
    assert_eq!(written["error"], "-");
    assert_eq!(written["apiId"], "-");
}

#[test]
fn every_variable_aws_has_for_websocket_apis_is_taken_and_every_field_of_the_line_has_one() {
    for name in variables::FIELDS
        .map(|(name, _)| name)
        .iter()
        .chain(&variables::ABSENT)
    {
        let template = format!("$context.requestId $context.{name}");
        assert!(Template::parse(&template).is_ok(), "{name}");
    }
    for field in Field::LINE {
        assert!(
            variables::FIELDS.iter().any(|(_, named)| *named == field),
            "{field:?} has no variable"
        );
    }
}

#[test]
fn variables_aws_does_not_have_are_all_named_in_one_refusal() {
    let refused = Template::parse(
        "$context.requestId $context.requestIdx [$context.identity.sourceIP] $context. $context",
    );
    assert_eq!(
        refused,
        Err(TemplateError::Unsupported(vec![
            "$context.requestIdx".into(),
            "$context.identity.sourceIP".into(),
            "$context".into(),
            "$context".into(),
        ]))
    );
    assert!(
        refused
            .unwrap_err()
            .to_string()
            .starts_with("The following context variables are not supported: [$context.requestIdx, $context.identity.sourceIP, $context, $context]")
    );
}

#[test]
fn a_format_must_name_the_request_and_be_one_line() {
    assert_eq!(
        Template::parse("$context.identity.sourceIp $context.status"),
        Err(TemplateError::NoRequestId)
    );
    assert!(Template::parse("$context.extendedRequestId").is_ok());
    assert_eq!(
        Template::parse("$context.requestId\n$context.status"),
        Err(TemplateError::Multiline)
    );
    assert_eq!(
        Template::parse("$context.requestId\r"),
        Template::parse("$context.requestId")
    );
    assert_eq!(
        Template::parse("$context.requestId\n"),
        Template::parse("$context.requestId")
    );
}

#[test]
fn a_name_ends_where_its_characters_do() {
    let connection = connection("");
    let event = context(&connection, EventType::Message, "sendmessage");
    let record = EventRecord::new(&connection, &event);
    let id = event.request_id;
    assert_eq!(
        line(
            "$context.requestId.$context.status.|$contextual $context.routeKey-x",
            &record,
            None
        ),
        format!("{id}.200.|$contextual sendmessage-x\n")
    );
    assert_eq!(
        line(
            "[$context.identity.userAgent]$context.requestId",
            &record,
            None
        ),
        format!("[-]{id}\n")
    );
}
