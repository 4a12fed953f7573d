//! The gateway's half of the seam, in a component: every call is a WIT import,
//! interface by interface.

/// `wsgate:gateway/connections`.
pub(crate) mod connections {
    use crate::bindings::wsgate::gateway::connections as imports;
    use crate::{ConnectionInfo, Payload, SendError};

    pub(crate) fn send(id: &str, payload: Payload) -> Result<(), SendError> {
        Ok(imports::send(id, &payload.into())?)
    }

    pub(crate) fn close(id: &str, code: u16, reason: &str) -> Result<(), SendError> {
        Ok(imports::close(id, code, reason)?)
    }

    pub(crate) fn info(id: &str) -> Result<ConnectionInfo, SendError> {
        Ok(ConnectionInfo(imports::info(id)?))
    }
}

/// `wsgate:gateway/groups`.
pub(crate) mod groups {
    use crate::bindings::wsgate::gateway::groups as imports;
    use crate::groups::Page;
    use crate::{Payload, SendError};

    pub(crate) fn join(group: &str, id: &str) -> Result<(), SendError> {
        Ok(imports::join(group, id)?)
    }

    pub(crate) fn leave(group: &str, id: &str) {
        imports::leave(group, id);
    }

    pub(crate) fn send(
        group: &str,
        payload: Payload,
        exclude: Option<&str>,
    ) -> Result<(), SendError> {
        Ok(imports::send(group, &payload.into(), exclude)?)
    }

    pub(crate) fn broadcast(payload: Payload, exclude: Option<&str>) -> Result<(), SendError> {
        Ok(imports::broadcast(&payload.into(), exclude)?)
    }

    pub(crate) fn members(group: &str, cursor: Option<&str>, limit: u32) -> Page {
        let page = imports::members(group, cursor, limit);
        Page {
            ids: page.ids,
            next_cursor: page.next_cursor,
        }
    }
}

/// `wasi:config/store`.
pub(crate) mod config {
    use crate::bindings::wasi::config::store;

    pub(crate) fn get(key: &str) -> Option<String> {
        store::get(key).ok().flatten()
    }

    pub(crate) fn all() -> Vec<(String, String)> {
        store::get_all().unwrap_or_default()
    }
}

/// `wasi:keyvalue/{store, atomics, batch}`.
pub(crate) mod kv {
    use crate::bindings::wasi::keyvalue::{atomics, batch, store};
    use crate::kv::KvError;

    /// An open bucket: the store's resource.
    #[derive(Debug)]
    pub(crate) struct Bucket(store::Bucket);

    impl Bucket {
        pub(crate) fn open(name: &str) -> Result<Self, KvError> {
            Ok(Self(store::open(name)?))
        }

        pub(crate) fn get(&self, key: &str) -> Result<Option<Vec<u8>>, KvError> {
            Ok(self.0.get(key)?)
        }

        pub(crate) fn set(&self, key: &str, value: &[u8]) -> Result<(), KvError> {
            Ok(self.0.set(key, value)?)
        }

        pub(crate) fn delete(&self, key: &str) -> Result<(), KvError> {
            Ok(self.0.delete(key)?)
        }

        pub(crate) fn exists(&self, key: &str) -> Result<bool, KvError> {
            Ok(self.0.exists(key)?)
        }

        /// A page of keys and the cursor of the next page, if any.
        pub(crate) fn list_keys(
            &self,
            cursor: Option<u64>,
        ) -> Result<(Vec<String>, Option<u64>), KvError> {
            let page = self.0.list_keys(cursor)?;
            Ok((page.keys, page.cursor))
        }

        pub(crate) fn increment(&self, key: &str, delta: u64) -> Result<u64, KvError> {
            Ok(atomics::increment(&self.0, key, delta)?)
        }

        pub(crate) fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, KvError> {
            Ok(batch::get_many(&self.0, keys)?
                .into_iter()
                .map(|entry| entry.map(|(_, value)| value))
                .collect())
        }

        pub(crate) fn set_many(&self, pairs: &[(String, Vec<u8>)]) -> Result<(), KvError> {
            Ok(batch::set_many(&self.0, pairs)?)
        }

        pub(crate) fn delete_many(&self, keys: &[String]) -> Result<(), KvError> {
            Ok(batch::delete_many(&self.0, keys)?)
        }
    }
}

/// `wasi:http/outgoing-handler`.
pub(crate) mod http {
    use crate::bindings::wasi::http::outgoing_handler;
    use crate::bindings::wasi::http::types::{
        ErrorCode, Fields, IncomingBody, Method, OutgoingBody, OutgoingRequest, http_error_code,
    };
    use crate::bindings::wasi::io::streams::StreamError;
    use crate::http::{HttpError, Request, Response, split_url};

    /// The largest piece of the body written in one call.
    const WRITE_CHUNK: usize = 4096;
    /// The most read in one call.
    const READ_CHUNK: u64 = 64 * 1024;

    /// Sends the request and reads the whole response.
    pub(crate) fn send(request: Request) -> Result<Response, HttpError> {
        let (scheme, authority, path) = split_url(&request.url)?;
        let fields: Vec<(String, Vec<u8>)> = request
            .headers
            .into_iter()
            .map(|(name, value)| (name, value.into_bytes()))
            .collect();
        let headers = Fields::from_list(&fields)
            .map_err(|error| HttpError::InvalidRequest(format!("bad header: {error:?}")))?;
        let outgoing = OutgoingRequest::new(headers);
        let invalid =
            |what: &str| HttpError::InvalidRequest(format!("bad {what} in {}", request.url));
        outgoing
            .set_method(&method(&request.method))
            .map_err(|()| invalid("method"))?;
        outgoing
            .set_scheme(Some(&scheme))
            .map_err(|()| invalid("scheme"))?;
        outgoing
            .set_authority(Some(authority))
            .map_err(|()| invalid("host"))?;
        outgoing
            .set_path_with_query(Some(&path))
            .map_err(|()| invalid("path"))?;
        let body = outgoing.body().map_err(|()| invalid("body"))?;
        let pending =
            outgoing_handler::handle(outgoing, None).map_err(|code| error(code, authority))?;
        // A request the gateway refuses (or that fails) closes the body
        // stream; the response then says why, so it is checked first.
        let written = write_body(body, &request.body);
        let response = loop {
            match pending.get() {
                Some(result) => break result,
                None => pending.subscribe().block(),
            }
        };
        let failed = |code| error(code, authority);
        let response = response
            .map_err(|()| HttpError::Failed("the response was already taken".into()))?
            .map_err(failed)?;
        written.map_err(failed)?;
        let status = response.status();
        let headers = response
            .headers()
            .entries()
            .into_iter()
            .map(|(name, value)| (name, String::from_utf8_lossy(&value).into_owned()))
            .collect();
        let incoming = response
            .consume()
            .map_err(|()| HttpError::Failed("the response body was already taken".into()))?;
        let body = read_body(incoming).map_err(failed)?;
        Ok(Response {
            status,
            headers,
            body,
        })
    }

    /// The method named `name` (upper case).
    fn method(name: &str) -> Method {
        match name {
            "GET" => Method::Get,
            "HEAD" => Method::Head,
            "POST" => Method::Post,
            "PUT" => Method::Put,
            "DELETE" => Method::Delete,
            "PATCH" => Method::Patch,
            "OPTIONS" => Method::Options,
            other => Method::Other(other.to_owned()),
        }
    }

    /// What a `wasi:http` error code means to a handler.
    fn error(code: ErrorCode, host: &str) -> HttpError {
        match code {
            ErrorCode::HttpRequestDenied => HttpError::Denied {
                host: host.to_owned(),
            },
            ErrorCode::ConnectionTimeout
            | ErrorCode::ConnectionReadTimeout
            | ErrorCode::HttpResponseTimeout => HttpError::Timeout,
            ErrorCode::HttpResponseBodySize(_) => HttpError::TooLarge,
            other => HttpError::Failed(format!("{other:?}")),
        }
    }

    fn write_body(outgoing: OutgoingBody, body: &[u8]) -> Result<(), ErrorCode> {
        {
            let stream = outgoing
                .write()
                .map_err(|()| ErrorCode::InternalError(Some("no body stream".into())))?;
            for chunk in body.chunks(WRITE_CHUNK) {
                stream
                    .blocking_write_and_flush(chunk)
                    .map_err(stream_error)?;
            }
        }
        OutgoingBody::finish(outgoing, None)
    }

    fn read_body(incoming: IncomingBody) -> Result<Vec<u8>, ErrorCode> {
        let mut body = Vec::new();
        {
            let stream = incoming
                .stream()
                .map_err(|()| ErrorCode::InternalError(Some("no body stream".into())))?;
            loop {
                match stream.blocking_read(READ_CHUNK) {
                    Ok(bytes) => body.extend_from_slice(&bytes),
                    Err(StreamError::Closed) => break,
                    Err(error) => return Err(stream_error(error)),
                }
            }
        }
        drop(IncomingBody::finish(incoming));
        Ok(body)
    }

    fn stream_error(error: StreamError) -> ErrorCode {
        match error {
            StreamError::LastOperationFailed(error) => http_error_code(&error)
                .unwrap_or_else(|| ErrorCode::InternalError(Some(error.to_debug_string()))),
            StreamError::Closed => ErrorCode::HttpProtocolError,
        }
    }
}
