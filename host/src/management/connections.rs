//! The `@connections` operations: AWS's PostToConnection, GetConnection and
//! DeleteConnection, plus closing with a code and reason and batch sends (the
//! paginated list of every connection is [`listing`](super::listing)'s).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use http::StatusCode;
use serde::{Deserialize, Deserializer};
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

use super::endpoint::Query;
use super::response::{ApiError, ApiResponse, empty, json};
use super::{listing, payload};
use crate::connection::{CloseInitiator, ConnectionId, SendError};
use crate::registry::Registry;

/// The most connection ids one batch request may name.
pub const MAX_BATCH: usize = 1000;

/// `POST /@connections/{id}`: sends the body as one frame.
pub async fn post(
    registry: &dyn Registry,
    id: &ConnectionId,
    query: &Query,
    body: Bytes,
) -> Result<ApiResponse, ApiError> {
    registry.send(id, payload::frame(body, query)?).await?;
    Ok(empty(StatusCode::OK))
}

/// `GET /@connections/{id}`: when it connected, who it is, when it last
/// spoke (AWS's fields; SDKs ignore the others), its context and groups.
pub async fn get(registry: &dyn Registry, id: &ConnectionId) -> Result<ApiResponse, ApiError> {
    let info = registry.info(id).await?;
    Ok(json(StatusCode::OK, &listing::describe(&info)))
}

/// `DELETE /@connections/{id}[?code=…&reason=…]`: closes the connection (1000
/// unless an application code 3000-4999 is given); its `$disconnect` runs
/// with the initiator `api`.
pub async fn delete(
    registry: &dyn Registry,
    id: &ConnectionId,
    query: &Query,
) -> Result<ApiResponse, ApiError> {
    let code = query.parse::<u16>("code")?.unwrap_or(1000);
    if !matches!(code, 1000 | 3000..=4999) {
        return Err(ApiError::bad_request(format!(
            "code must be 1000 or 3000-4999, not {code}"
        )));
    }
    let reason = query.get("reason").unwrap_or("");
    if reason.len() > 123 {
        return Err(ApiError::bad_request(
            "reason must be at most 123 bytes (what a close frame holds)",
        ));
    }
    registry
        .close(id, code, reason, CloseInitiator::Api)
        .await?;
    Ok(empty(StatusCode::NO_CONTENT))
}

/// The body of `POST /@connections`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Batch {
    connection_ids: Vec<String>,
    #[serde(default, deserialize_with = "string")]
    data: Option<String>,
    #[serde(default, deserialize_with = "string")]
    data_base64: Option<String>,
}

/// An optional field that, when present, must be a string (not `null`).
fn string<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    String::deserialize(deserializer).map(Some)
}

/// `POST /@connections` with `{"connectionIds": […], "data": "…"}` (a text
/// frame) or `"dataBase64"` (a binary frame): sends one payload to each id.
/// Answers which sends failed and why.
pub async fn post_batch(
    registry: &dyn Registry,
    max_message_size: usize,
    body: &[u8],
) -> Result<ApiResponse, ApiError> {
    let batch: Batch = serde_json::from_slice(body)
        .map_err(|error| ApiError::bad_request(format!("invalid batch body: {error}")))?;
    if batch.connection_ids.len() > MAX_BATCH {
        return Err(ApiError::bad_request(format!(
            "a batch names at most {MAX_BATCH} connections"
        )));
    }
    let message = match (batch.data, batch.data_base64) {
        (Some(text), None) => Message::text(text),
        (None, Some(encoded)) => Message::binary(
            STANDARD
                .decode(encoded)
                .map_err(|error| ApiError::bad_request(format!("invalid dataBase64: {error}")))?,
        ),
        _ => {
            return Err(ApiError::bad_request(
                "a batch has exactly one of data and dataBase64",
            ));
        }
    };
    if message.len() > max_message_size {
        return Err(SendError::PayloadTooLarge.into());
    }
    let mut failed = Vec::new();
    for id in &batch.connection_ids {
        if let Err(error) = registry
            .send(&ConnectionId::from(id.as_str()), message.clone())
            .await
        {
            let error = ApiError::from(error);
            failed.push(json!({
                "connectionId": id,
                "errorType": error.error_type(),
                "message": error.message(),
            }));
        }
    }
    let body = json!({ "sent": batch.connection_ids.len() - failed.len(), "failed": failed });
    Ok(json(StatusCode::OK, &body))
}
