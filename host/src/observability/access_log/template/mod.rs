//! An access log template: a line of `$context` variables among literal
//! text, as API Gateway's `access_log_settings.format` (CLF, JSON, CSV or
//! any other shape), read once at start-up into literal and variable parts;
//! each line is the parts written in turn, values borrowed from the record.
//!
//! What AWS refuses is refused here too, at start-up: a variable it does not
//! know (in its words: `The following context variables are not supported:
//! [$context.x]`), and a format without `$context.requestId` or
//! `$context.extendedRequestId`. AWS writes `-` for an empty value, and so
//! does wsgate; a value is escaped as inside a JSON string, so a JSON
//! template stays JSON whatever a client sends, and no value can break the
//! line.

mod variables;

#[cfg(test)]
mod tests;

use super::line::{Field, Value, escape};
use super::record::EventRecord;

/// A parsed template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
}

/// Literal text, or a variable.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Part {
    Literal(Box<str>),
    Variable(Variable),
}

/// What a `$context` variable of the template writes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Variable {
    /// A field of the event's line.
    Field(Field),
    /// `error.messageString`: `error.message` in double quotes (`"-"` when
    /// there was none), for a JSON template to use unquoted.
    ErrorMessageString,
    /// `authorizer.KEY`: the connection context's `KEY`, set by `$connect`
    /// (so `-` on the `CONNECT` line itself).
    Authorizer(Box<str>),
    /// One of AWS's variables for what wsgate does not have: always `-`.
    Absent,
}

/// Why a template is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// Variables AWS does not have, each as written.
    #[error(
        "The following context variables are not supported: [{}] (the variables are API Gateway's for WebSocket APIs; docs/management-api.md lists them)",
        .0.join(", ")
    )]
    Unsupported(Vec<String>),
    /// No request id to find the line by.
    #[error(
        "the access log format must include $context.requestId or $context.extendedRequestId, as API Gateway's must"
    )]
    NoRequestId,
    /// A line break before the end.
    #[error("the access log format must be a single line (a newline may end it)")]
    Multiline,
}

/// What starts a variable.
const PREFIX: &str = "$context";

impl Template {
    /// Reads `format`; a newline may end it (every line ends with one).
    pub fn parse(format: &str) -> Result<Template, TemplateError> {
        let format = format.strip_suffix('\n').unwrap_or(format);
        let format = format.strip_suffix('\r').unwrap_or(format);
        if format.contains(['\n', '\r']) {
            return Err(TemplateError::Multiline);
        }
        let mut parts = Vec::new();
        let mut unsupported = Vec::new();
        // `literal` is where the literal text being gathered starts.
        let (mut literal, mut at) = (0, 0);
        while let Some(found) = format[at..].find(PREFIX) {
            let start = at + found;
            let after = start + PREFIX.len();
            let rest = &format[after..];
            if rest.starts_with(is_name_char) {
                // `$contextual`: not a variable.
                at = after;
                continue;
            }
            let name = rest.strip_prefix('.').map_or("", name);
            let end = if name.is_empty() {
                after
            } else {
                after + 1 + name.len()
            };
            match variables::variable(name) {
                Some(variable) => {
                    push_literal(&mut parts, &format[literal..start]);
                    parts.push(Part::Variable(variable));
                }
                None => unsupported.push(format[start..end].to_owned()),
            }
            (literal, at) = (end, end);
        }
        push_literal(&mut parts, &format[literal..]);
        if !unsupported.is_empty() {
            return Err(TemplateError::Unsupported(unsupported));
        }
        let identifies = |part: &Part| {
            matches!(
                part,
                Part::Variable(Variable::Field(Field::RequestId | Field::ExtendedRequestId))
            )
        };
        if !parts.iter().any(identifies) {
            return Err(TemplateError::NoRequestId);
        }
        Ok(Template { parts })
    }

    /// Appends `record`'s line, newline included; `api_id` is the log's.
    pub fn render(&self, record: &EventRecord<'_>, api_id: Option<&str>, out: &mut Vec<u8>) {
        for part in &self.parts {
            match part {
                Part::Literal(text) => out.extend_from_slice(text.as_bytes()),
                Part::Variable(Variable::Field(field)) => {
                    record.value(*field, api_id).write_template(out)
                }
                Part::Variable(Variable::ErrorMessageString) => {
                    out.push(b'"');
                    escape(record.outcome.error_message().unwrap_or("-"), out);
                    out.push(b'"');
                }
                Part::Variable(Variable::Authorizer(key)) => {
                    let context = record.connection.context();
                    let value = context.iter().find(|(name, _)| **name == **key);
                    Value::from(value.map(|(_, value)| value.as_str())).write_template(out);
                }
                Part::Variable(Variable::Absent) => out.push(b'-'),
            }
        }
        out.push(b'\n');
    }
}

/// A character of a variable's name (between its dots).
fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The variable name at the start of `text`: names joined by dots; a dot
/// not followed by a name is the literal text after it.
fn name(text: &str) -> &str {
    let mut end = 0;
    loop {
        let segment = text[end..]
            .find(|c| !is_name_char(c))
            .unwrap_or(text.len() - end);
        end += segment;
        let continues = text[end..]
            .strip_prefix('.')
            .is_some_and(|rest| rest.starts_with(is_name_char));
        if segment == 0 || !continues {
            return &text[..end];
        }
        end += 1;
    }
}

/// Adds literal `text`, if any, to `parts`.
fn push_literal(parts: &mut Vec<Part>, text: &str) {
    if !text.is_empty() {
        parts.push(Part::Literal(text.into()));
    }
}
