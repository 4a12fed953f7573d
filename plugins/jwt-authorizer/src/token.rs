//! Where a token is found in the upgrade request, and which subprotocol the
//! handshake answers with.
//!
//! A browser cannot set headers on a WebSocket handshake, but it can offer
//! subprotocols: `new WebSocket(url, ["chat.v1", "bearer." + token])` sends
//! both entries in `Sec-WebSocket-Protocol`. The token entry is for the
//! authorizer alone; the handshake answers with the application's
//! subprotocol, never with the token.

use wsgate_sdk::ConnectRequest;

use crate::settings::{Settings, Source};

/// The token of `request`, from the first of the configured sources that
/// has one.
pub fn find<'r>(request: &'r ConnectRequest, settings: &Settings) -> Option<&'r str> {
    settings.sources.iter().find_map(|source| {
        let token = match source {
            Source::Header => request.header("authorization").and_then(|value| {
                let (scheme, token) = value.trim().split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
            }),
            Source::Query => request.query(&settings.query_parameter),
            Source::Subprotocol => request
                .subprotocols()
                .iter()
                .find_map(|offered| offered.strip_prefix(settings.subprotocol_prefix.as_str())),
        };
        token.filter(|token| !token.is_empty())
    })
}

/// The subprotocol to answer with: the first the client offered that is not
/// a token entry and, if the configuration lists the application's
/// subprotocols, is one of them. `None` answers with no subprotocol, which
/// RFC 6455 allows but Chrome refuses when it offered any: a client offers
/// a subprotocol beside its token (the README says so).
pub fn subprotocol<'r>(request: &'r ConnectRequest, settings: &Settings) -> Option<&'r str> {
    request
        .subprotocols()
        .iter()
        .map(String::as_str)
        .filter(|offered| !offered.starts_with(settings.subprotocol_prefix.as_str()))
        .find(|offered| match &settings.subprotocols {
            Some(listed) => listed.iter().any(|name| name == offered),
            None => true,
        })
}

/// How to send a token, in words, for the configured sources.
pub fn how_to_send(settings: &Settings) -> String {
    let ways: Vec<String> = settings
        .sources
        .iter()
        .map(|source| match source {
            Source::Header => "`Authorization: Bearer <jwt>`".to_owned(),
            Source::Query => format!("`?{}=<jwt>`", settings.query_parameter),
            Source::Subprotocol => {
                format!("the subprotocol `{}<jwt>`", settings.subprotocol_prefix)
            }
        })
        .collect();
    format!("no token: send {}", ways.join(" or "))
}
