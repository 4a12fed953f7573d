//! The `$context` variables a template may use, by name, and what each is
//! in wsgate. The names are API Gateway's for WebSocket APIs; beside them,
//! three of its HTTP APIs' (`httpMethod`, `protocol`, `responseLength`) and
//! the two of a `$disconnect` event's request context
//! (`disconnectStatusCode`, `disconnectReason`), so every field of the JSON
//! line can be written. Any other name is refused, as AWS refuses it.

use super::Variable;
use crate::observability::access_log::line::Field;

/// The variables that are a field of the event's line, aliases included.
pub(super) const FIELDS: [(&str, Field); 28] = [
    ("apiId", Field::ApiId),
    ("connectedAt", Field::ConnectedAt),
    ("connectionId", Field::ConnectionId),
    ("disconnectReason", Field::DisconnectReason),
    ("disconnectStatusCode", Field::DisconnectStatusCode),
    ("domainName", Field::DomainName),
    ("error.message", Field::ErrorMessage),
    ("error.responseType", Field::ErrorResponseType),
    ("eventType", Field::EventType),
    ("extendedRequestId", Field::ExtendedRequestId),
    ("httpMethod", Field::HttpMethod),
    ("identity.sourceIp", Field::SourceIp),
    ("identity.userAgent", Field::UserAgent),
    ("integration.error", Field::IntegrationErrorMessage),
    ("integration.latency", Field::IntegrationLatency),
    ("integration.status", Field::IntegrationStatus),
    ("integrationErrorMessage", Field::IntegrationErrorMessage),
    ("integrationLatency", Field::IntegrationLatency),
    ("integrationStatus", Field::IntegrationStatus),
    ("messageId", Field::MessageId),
    ("protocol", Field::Protocol),
    ("requestId", Field::RequestId),
    ("requestTime", Field::RequestTime),
    ("requestTimeEpoch", Field::RequestTimeEpoch),
    ("responseLength", Field::ResponseLength),
    ("routeKey", Field::RouteKey),
    ("stage", Field::Stage),
    ("status", Field::Status),
];

/// AWS's variables for what wsgate has no counterpart of: IAM and Cognito
/// identities, API keys, WAF, an authorizer or an integration request apart
/// from the handler call. Taken, as AWS takes them, and always `-`, as AWS
/// writes them where the feature is not in use.
pub(super) const ABSENT: [&str; 30] = [
    "authenticate.error",
    "authenticate.latency",
    "authenticate.status",
    "authorize.error",
    "authorize.latency",
    "authorize.status",
    "authorizer.error",
    "authorizer.integrationLatency",
    "authorizer.integrationStatus",
    "authorizer.latency",
    "authorizer.requestId",
    "authorizer.status",
    "awsEndpointRequestId",
    "error.validationErrorString",
    "identity.accountId",
    "identity.apiKey",
    "identity.apiKeyId",
    "identity.caller",
    "identity.cognitoAuthenticationProvider",
    "identity.cognitoAuthenticationType",
    "identity.cognitoIdentityId",
    "identity.cognitoIdentityPoolId",
    "identity.principalOrgId",
    "identity.user",
    "identity.userArn",
    "integration.integrationStatus",
    "integration.requestId",
    "waf.error",
    "waf.latency",
    "waf.status",
];

/// What `$context.NAME` is, if wsgate takes it. `authorizer.KEY` (any key
/// but the authorizer's own fields above) is the connection context's
/// `KEY`: what `$connect` attached, as a Lambda authorizer's context.
pub fn variable(name: &str) -> Option<Variable> {
    if let Some((_, field)) = FIELDS.iter().find(|(known, _)| *known == name) {
        return Some(Variable::Field(*field));
    }
    if name == "error.messageString" {
        return Some(Variable::ErrorMessageString);
    }
    if ABSENT.contains(&name) {
        return Some(Variable::Absent);
    }
    let key = name.strip_prefix("authorizer.")?;
    Some(Variable::Authorizer(key.into()))
}
