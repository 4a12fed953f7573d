//! The management API's addresses: which operation a method and path name,
//! with the optional stage prefix and strict percent-decoding, and the query
//! parameters that refine it.

use std::str::FromStr;

use http::{Method, Uri};
use percent_encoding::percent_decode_str;

use super::response::ApiError;
use crate::connection::ConnectionId;
use crate::event::query_fields;
use crate::registry::MAX_PAGE;

/// Ids on a listing's page unless `limit` says otherwise.
const DEFAULT_PAGE: u32 = 100;

/// What a management request asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Operation {
    /// `POST /@connections/{id}`: send the body to one connection.
    PostToConnection(ConnectionId),
    /// `GET /@connections/{id}`: what is known about one connection.
    GetConnection(ConnectionId),
    /// `DELETE /@connections/{id}`: close one connection.
    DeleteConnection(ConnectionId),
    /// `GET /@connections`: a page of every connection's id.
    ListConnections,
    /// `POST /@connections`: send one payload to many connections.
    PostBatch,
    /// `POST /@broadcast`: send the body to every connection.
    Broadcast,
    /// `POST /@groups/{group}`: send the body to a group's members.
    PostToGroup(String),
    /// `GET /@groups/{group}`: a page of a group's members.
    ListMembers(String),
    /// `PUT /@groups/{group}/{id}`: add a connection to a group.
    AddMember(String, ConnectionId),
    /// `DELETE /@groups/{group}/{id}`: remove a connection from a group.
    RemoveMember(String, ConnectionId),
    /// `GET /@groups`: a page of the groups that have members.
    ListGroups,
    /// `GET /@routes`: the route table, with each component's version.
    ListRoutes,
    /// `GET /@tail`: the access log's records as they come, as server-sent
    /// events.
    Tail,
}

impl Operation {
    /// The endpoint's name if it is one of wsgate's extensions, which API
    /// Gateway's `@connections` API does not have (reported under
    /// `--compat aws`).
    pub fn extension(&self) -> Option<&'static str> {
        Some(match self {
            Operation::PostToConnection(_)
            | Operation::GetConnection(_)
            | Operation::DeleteConnection(_) => return None,
            Operation::ListConnections => "GET /@connections (listing connections)",
            Operation::PostBatch => "POST /@connections (sending to many connections)",
            Operation::Broadcast => "POST /@broadcast",
            Operation::PostToGroup(_) => "POST /@groups/{group}",
            Operation::ListMembers(_) => "GET /@groups/{group}",
            Operation::AddMember(..) => "PUT /@groups/{group}/{id}",
            Operation::RemoveMember(..) => "DELETE /@groups/{group}/{id}",
            Operation::ListGroups => "GET /@groups",
            Operation::ListRoutes => "GET /@routes",
            Operation::Tail => "GET /@tail",
        })
    }

    /// The operation `method` and `uri` name. `stage`, when not empty, is an
    /// optional first path segment. Unknown paths are 404, a method the path
    /// does not take is 405, bad percent-encoding is 400.
    pub fn parse(method: &Method, uri: &Uri, stage: &str) -> Result<Self, ApiError> {
        let not_found = || ApiError::not_found(format!("no management endpoint at {}", uri.path()));
        let mut segments = uri
            .path()
            .strip_prefix('/')
            .ok_or_else(not_found)?
            .split('/')
            .map(decode)
            .collect::<Result<Vec<_>, _>>()?;
        if !stage.is_empty() && segments.first().is_some_and(|first| first == stage) {
            segments.remove(0);
        }
        let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
        let operation = match (segments.as_slice(), method) {
            (["@connections"], &Method::GET) => Operation::ListConnections,
            (["@connections"], &Method::POST) => Operation::PostBatch,
            (["@connections"], _) => return Err(ApiError::method_not_allowed("GET, POST")),
            (["@connections", id], _) if !id.is_empty() => {
                let id = ConnectionId::from(*id);
                match *method {
                    Method::POST => Operation::PostToConnection(id),
                    Method::GET => Operation::GetConnection(id),
                    Method::DELETE => Operation::DeleteConnection(id),
                    _ => return Err(ApiError::method_not_allowed("GET, POST, DELETE")),
                }
            }
            (["@routes"], &Method::GET) => Operation::ListRoutes,
            (["@routes"], _) => return Err(ApiError::method_not_allowed("GET")),
            (["@tail"], &Method::GET) => Operation::Tail,
            (["@tail"], _) => return Err(ApiError::method_not_allowed("GET")),
            (["@groups"], &Method::GET) => Operation::ListGroups,
            (["@groups"], _) => return Err(ApiError::method_not_allowed("GET")),
            (["@broadcast"], &Method::POST) => Operation::Broadcast,
            (["@broadcast"], _) => return Err(ApiError::method_not_allowed("POST")),
            (["@groups", group], _) if !group.is_empty() => match *method {
                Method::POST => Operation::PostToGroup((*group).to_owned()),
                Method::GET => Operation::ListMembers((*group).to_owned()),
                _ => return Err(ApiError::method_not_allowed("GET, POST")),
            },
            (["@groups", group, id], _) if !group.is_empty() && !id.is_empty() => {
                let (group, id) = ((*group).to_owned(), ConnectionId::from(*id));
                match *method {
                    Method::PUT => Operation::AddMember(group, id),
                    Method::DELETE => Operation::RemoveMember(group, id),
                    _ => return Err(ApiError::method_not_allowed("PUT, DELETE")),
                }
            }
            _ => return Err(not_found()),
        };
        Ok(operation)
    }
}

/// A path segment, percent-decoded. Every `%` must start a `%XX` escape and
/// the result must be UTF-8; anything else is a 400, not a guess.
fn decode(segment: &str) -> Result<String, ApiError> {
    let bytes = segment.as_bytes();
    let escapes_valid = segment.match_indices('%').all(|(at, _)| {
        bytes
            .get(at + 1..at + 3)
            .is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit))
    });
    if !escapes_valid {
        return Err(ApiError::bad_request(format!(
            "bad percent-encoding in the path segment `{segment}`"
        )));
    }
    percent_decode_str(segment)
        .decode_utf8()
        .map(|decoded| decoded.into_owned())
        .map_err(|_| ApiError::bad_request(format!("the path segment `{segment}` is not UTF-8")))
}

/// A request's decoded query parameters.
#[derive(Clone, Debug, Default)]
pub struct Query(Vec<(String, String)>);

impl Query {
    /// The query of `uri`.
    pub fn of(uri: &Uri) -> Self {
        Query(query_fields(uri))
    }

    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// The first value of `name`, parsed; a value that does not parse is a 400.
    pub fn parse<T: FromStr>(&self, name: &str) -> Result<Option<T>, ApiError> {
        self.get(name)
            .map(|value| {
                value.parse().map_err(|_| {
                    ApiError::bad_request(format!("invalid query parameter {name}={value}"))
                })
            })
            .transpose()
    }

    /// A listing's `cursor` (none for the first page) and `limit` (1-1000,
    /// default 100).
    pub fn page(&self) -> Result<(Option<&str>, u32), ApiError> {
        let limit = self.parse::<u32>("limit")?.unwrap_or(DEFAULT_PAGE);
        if !(1..=MAX_PAGE).contains(&limit) {
            return Err(ApiError::bad_request(format!(
                "limit must be 1-{MAX_PAGE}, not {limit}"
            )));
        }
        Ok((self.get("cursor"), limit))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(method: Method, path: &str, stage: &str) -> Result<Operation, u16> {
        let uri: Uri = path.parse().unwrap();
        Operation::parse(&method, &uri, stage).map_err(|error| error.status().as_u16())
    }

    #[test]
    fn aws_paths_with_or_without_the_stage_and_encoded() {
        let id = || ConnectionId::from("abc=");
        let post = Ok(Operation::PostToConnection(id()));
        assert_eq!(parse(Method::POST, "/@connections/abc%3D", ""), post);
        assert_eq!(parse(Method::POST, "/%40connections/abc%3D", ""), post);
        assert_eq!(
            parse(Method::POST, "/prod/@connections/abc%3D", "prod"),
            post
        );
        assert_eq!(parse(Method::POST, "/@connections/abc%3D", "prod"), post);
        assert_eq!(
            parse(Method::POST, "/prod/@connections/abc%3D", ""),
            Err(404)
        );
        assert_eq!(
            parse(Method::GET, "/@connections/abc=", ""),
            Ok(Operation::GetConnection(id()))
        );
        assert_eq!(
            parse(Method::DELETE, "/@connections/abc%3d", ""),
            Ok(Operation::DeleteConnection(id()))
        );
    }

    #[test]
    fn groups_broadcast_and_listing() {
        assert_eq!(
            parse(Method::GET, "/@connections", ""),
            Ok(Operation::ListConnections)
        );
        assert_eq!(
            parse(Method::POST, "/@connections", ""),
            Ok(Operation::PostBatch)
        );
        assert_eq!(
            parse(Method::POST, "/@broadcast", ""),
            Ok(Operation::Broadcast)
        );
        assert_eq!(
            parse(Method::POST, "/@groups/red%20room", ""),
            Ok(Operation::PostToGroup("red room".into()))
        );
        assert_eq!(
            parse(Method::PUT, "/@groups/red/abc", ""),
            Ok(Operation::AddMember("red".into(), "abc".into()))
        );
        assert_eq!(
            parse(Method::GET, "/@groups", ""),
            Ok(Operation::ListGroups)
        );
        assert_eq!(
            parse(Method::GET, "/prod/@tail", "prod"),
            Ok(Operation::Tail)
        );
        assert_eq!(parse(Method::POST, "/@tail", ""), Err(405));
    }

    #[test]
    fn unknown_paths_wrong_methods_and_bad_escapes_are_refused() {
        assert_eq!(parse(Method::GET, "/", ""), Err(404));
        assert_eq!(parse(Method::GET, "/@connections/", ""), Err(404));
        assert_eq!(parse(Method::GET, "/@connections/a/b", ""), Err(404));
        assert_eq!(parse(Method::PUT, "/@connections/abc", ""), Err(405));
        assert_eq!(parse(Method::GET, "/@broadcast", ""), Err(405));
        assert_eq!(parse(Method::POST, "/@connections/abc%3", ""), Err(400));
        assert_eq!(parse(Method::POST, "/@connections/abc%zz", ""), Err(400));
        assert_eq!(parse(Method::POST, "/@connections/%ff", ""), Err(400));
    }
}
