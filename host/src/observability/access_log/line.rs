//! The fields of an access log line and how their values are written: in
//! the JSON line, in the `key=value` line and into a template.

use crate::clock::write_clf;

/// Declares [`Field`] from one list: each field's variant, doc and key.
macro_rules! fields {
    ($($(#[doc = $doc:literal])* $field:ident = $name:literal,)*) => {
        /// One field of an event's line. Its name is the JSON and text lines'
        /// key; a template names it by its AWS `$context` variable.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum Field {
            $($(#[doc = $doc])* $field,)*
        }

        impl Field {
            /// An event's line, in order: the fields of the first access log,
            /// then those added to complete AWS's `$context`.
            pub const LINE: [Field; [$($name),*].len()] = [$(Field::$field),*];

            /// The field's key in the JSON and text lines.
            pub fn name(self) -> &'static str {
                match self {
                    $(Field::$field => $name,)*
                }
            }
        }

        /// Appends an event's line, [`Field::LINE`] with the `value` of
        /// each, as one JSON object, newline included. Written out field by
        /// field: each key is a constant the compiler copies inline.
        pub fn write_json_line<'a>(value: impl Fn(Field) -> Value<'a>, out: &mut Vec<u8>) {
            let start = out.len();
            $(
                out.extend_from_slice(concat!(",\"", $name, "\":").as_bytes());
                value(Field::$field).write_json(out);
            )*
            // The first key's comma opens the object.
            out[start] = b'{';
            out.extend_from_slice(b"}\n");
        }
    };
}

fields! {
    /// Unique per event.
    RequestId = "requestId",
    /// The connection.
    ConnectionId = "connectionId",
    /// The route that took the event (`-`: none did).
    RouteKey = "routeKey",
    /// `CONNECT`, `MESSAGE` or `DISCONNECT`.
    EventType = "eventType",
    /// Unique per message (messages only).
    MessageId = "messageId",
    /// The status AWS logs for the event.
    Status = "status",
    /// The client's IP address.
    SourceIp = "sourceIp",
    /// The client's `User-Agent`.
    UserAgent = "userAgent",
    /// When the event arrived, in CLF.
    RequestTime = "requestTime",
    /// When the event arrived, in ms since the epoch.
    RequestTimeEpoch = "requestTimeEpoch",
    /// How long the handler ran, in ms.
    IntegrationLatency = "integrationLatency",
    /// What went wrong.
    ErrorMessage = "errorMessage",
    /// The close code (disconnects only).
    DisconnectStatusCode = "disconnectStatusCode",
    /// The close reason (disconnects only).
    DisconnectReason = "disconnectReason",
    /// The same as the request id, as on AWS.
    ExtendedRequestId = "extendedRequestId",
    /// The operator's name for the API (`--api-id`).
    ApiId = "apiId",
    /// The deployment stage.
    Stage = "stage",
    /// The `Host` the client connected to.
    DomainName = "domainName",
    /// When the connection was accepted, in ms since the epoch.
    ConnectedAt = "connectedAt",
    /// The upgrade request's method (connects only).
    HttpMethod = "httpMethod",
    /// The upgrade request's protocol (connects only).
    Protocol = "protocol",
    /// Bytes sent back to the client in answer to the event.
    ResponseLength = "responseLength",
    /// The status the handler answered.
    IntegrationStatus = "integrationStatus",
    /// The handler's failure.
    IntegrationErrorMessage = "integrationErrorMessage",
    /// The kind of error response the gateway made itself.
    ErrorResponseType = "errorResponseType",
}

/// One field's value, borrowed from the record it describes.
#[derive(Clone, Copy, Debug)]
pub enum Value<'a> {
    /// Absent: JSON `null`, `-` in text and templates.
    None,
    /// Text.
    Text(&'a str),
    /// Text known to need no escaping, quoting or `-`: an id, a name of the
    /// gateway's own, an IP address. Never empty.
    Plain(&'a str),
    /// A whole number.
    Number(u64),
    /// Microseconds, written as milliseconds: `0.412`, `3.0`.
    Micros(u64),
    /// Milliseconds since the Unix epoch, written in CLF.
    Time(u64),
}

impl<'a> From<Option<&'a str>> for Value<'a> {
    fn from(text: Option<&'a str>) -> Self {
        text.map_or(Value::None, Value::Text)
    }
}

impl Value<'_> {
    /// As a JSON value.
    pub fn write_json(self, out: &mut Vec<u8>) {
        match self {
            Value::None => out.extend_from_slice(b"null"),
            Value::Text(text) => json_string(text, out),
            Value::Plain(text) => {
                out.push(b'"');
                out.extend_from_slice(text.as_bytes());
                out.push(b'"');
            }
            Value::Time(at) => {
                out.push(b'"');
                write_clf(at, out);
                out.push(b'"');
            }
            number => number.write_template(out),
        }
    }

    /// As a text line's value: `-` for none, quoted (as JSON) when it has
    /// spaces, quotes or `=`, or is empty.
    pub fn write_text(self, out: &mut Vec<u8>) {
        match self {
            Value::None => out.push(b'-'),
            Value::Text(text)
                if text.is_empty()
                    || text.contains(|c: char| c.is_whitespace() || c == '"' || c == '=') =>
            {
                json_string(text, out);
            }
            Value::Text(text) | Value::Plain(text) => out.extend_from_slice(text.as_bytes()),
            // CLF has a space.
            time @ Value::Time(_) => time.write_json(out),
            number => number.write_template(out),
        }
    }

    /// As AWS substitutes a `$context` variable: `-` for none or empty, text
    /// escaped as inside a JSON string (so a JSON template stays JSON, and a
    /// client's text cannot start a line of its own), without quotes.
    pub fn write_template(self, out: &mut Vec<u8>) {
        match self {
            Value::None | Value::Text("") => out.push(b'-'),
            Value::Text(text) => escape(text, out),
            Value::Plain(text) => out.extend_from_slice(text.as_bytes()),
            Value::Number(number) => {
                out.extend_from_slice(itoa::Buffer::new().format(number).as_bytes())
            }
            Value::Micros(micros) => write_millis(micros, out),
            Value::Time(at) => write_clf(at, out),
        }
    }
}

/// `text` as a JSON string.
pub fn json_string(text: &str, out: &mut Vec<u8>) {
    out.push(b'"');
    escape(text, out);
    out.push(b'"');
}

/// `text` escaped as inside a JSON string, as `serde_json` escapes it: `"`,
/// `\` and control characters.
pub fn escape(text: &str, out: &mut Vec<u8>) {
    let bytes = text.as_bytes();
    let needs = |byte: u8| byte < 0x20 || byte == b'"' || byte == b'\\';
    // Most values need nothing: one pass to look, one copy.
    if !bytes.iter().any(|&byte| needs(byte)) {
        out.extend_from_slice(bytes);
        return;
    }
    let mut plain = 0;
    for (index, &byte) in bytes.iter().enumerate() {
        if !needs(byte) {
            continue;
        }
        out.extend_from_slice(&bytes[plain..index]);
        plain = index + 1;
        match byte {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0c => out.extend_from_slice(b"\\f"),
            control => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(control >> 4)]);
                out.push(HEX[usize::from(control & 0xf)]);
            }
        }
    }
    out.extend_from_slice(&bytes[plain..]);
}

/// `micros` in milliseconds as the shortest decimal, as `serde_json` writes
/// the `f64` (`0.412`, `3.0`), without going through one.
fn write_millis(micros: u64, out: &mut Vec<u8>) {
    let mut digits = itoa::Buffer::new();
    out.extend_from_slice(digits.format(micros / 1000).as_bytes());
    out.push(b'.');
    let fraction = micros % 1000;
    let fraction = [fraction / 100, fraction / 10 % 10, fraction % 10].map(|d| b'0' + d as u8);
    let kept = fraction
        .iter()
        .rposition(|&digit| digit != b'0')
        .map_or(1, |last| last + 1);
    out.extend_from_slice(&fraction[..kept]);
}

/// Appends `fields` as one JSON object, or one line of `key=value` pairs,
/// newline included.
pub fn write_line<'a>(
    fields: impl IntoIterator<Item = (&'static str, Value<'a>)>,
    json: bool,
    out: &mut Vec<u8>,
) {
    for (index, (name, value)) in fields.into_iter().enumerate() {
        if json {
            out.extend_from_slice(if index == 0 { b"{\"" } else { b",\"" });
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b"\":");
            value.write_json(out);
        } else {
            if index > 0 {
                out.push(b' ');
            }
            out.extend_from_slice(name.as_bytes());
            out.push(b'=');
            value.write_text(out);
        }
    }
    if json {
        out.push(b'}');
    }
    out.push(b'\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_matches_serde_json() {
        for text in [
            "plain",
            "",
            "say \"hi\"",
            "back\\slash",
            "two\nlines\r\n",
            "tab\there",
            "\u{1}\u{8}\u{c}\u{1f}\u{7f}",
            "é ✓",
        ] {
            let mut ours = Vec::new();
            json_string(text, &mut ours);
            assert_eq!(ours, serde_json::to_vec(text).unwrap(), "{text:?}");
        }
    }

    #[test]
    fn latency_in_milliseconds_reads_as_serde_json_writes_the_float() {
        for micros in [
            0,
            3,
            30,
            300,
            412,
            1_000,
            1_500,
            12_345,
            3_000_000,
            987_654_321,
        ] {
            let mut ours = Vec::new();
            write_millis(micros, &mut ours);
            let float = micros as f64 / 1e3;
            assert_eq!(ours, serde_json::to_vec(&float).unwrap(), "{micros}");
        }
    }

    #[test]
    fn a_template_value_is_a_dash_when_absent_or_empty_and_never_breaks_the_line() {
        let written = |value: Value<'_>| {
            let mut out = Vec::new();
            value.write_template(&mut out);
            String::from_utf8(out).unwrap()
        };
        assert_eq!(written(Value::None), "-");
        assert_eq!(written(Value::Text("")), "-");
        assert_eq!(written(Value::Text("a \"b\"\nc")), "a \\\"b\\\"\\nc");
        assert_eq!(written(Value::Number(403)), "403");
        assert_eq!(written(Value::Micros(412)), "0.412");
        assert_eq!(written(Value::Plain("GET")), "GET");
        assert_eq!(written(Value::Time(0)), "01/Jan/1970:00:00:00 +0000");
    }
}
