//! The canonical request, rebuilt from what arrived exactly as the AWS SDKs
//! build it before signing: method, normalized and re-encoded path, sorted
//! query, the signed headers' trimmed values, and the signed headers' names.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};

use super::{SignatureError, SignedHead};

/// What SigV4 leaves unencoded: the RFC 3986 unreserved characters.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// In the canonical URI, `/` separates segments and stays as it is.
const PATH: &AsciiSet = &UNRESERVED.remove(b'/');

/// Method, canonical URI, canonical query, canonical headers and signed
/// headers, one per line: the canonical request but its payload hash.
pub(super) fn canonical_head(
    head: &SignedHead<'_>,
    signed_headers: &str,
) -> Result<String, SignatureError> {
    let mut headers = String::new();
    for name in signed_headers.split(';') {
        let values: Vec<String> = head
            .headers
            .get_all(name)
            .iter()
            .map(|value| {
                let value = value
                    .to_str()
                    .map_err(|_| SignatureError::Malformed("a signed header is not text"))?;
                Ok(value.split_whitespace().collect::<Vec<_>>().join(" "))
            })
            .collect::<Result<_, _>>()?;
        if values.is_empty() {
            return Err(SignatureError::Malformed("a signed header is missing"));
        }
        headers.push_str(&format!("{name}:{}\n", values.join(",")));
    }
    Ok(format!(
        "{}\n{}\n{}\n{headers}\n{signed_headers}",
        head.method,
        canonical_uri(head.path),
        canonical_query(head.query),
    ))
}

/// The path without empty and dot segments, each byte outside the unreserved
/// set and `/` percent-encoded (so an escape the client sent is encoded again,
/// as every AWS service but S3 expects).
fn canonical_uri(path: &str) -> String {
    let mut segments: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            segment => segments.push(segment),
        }
    }
    let trailing = if path.ends_with('/') && !segments.is_empty() {
        "/"
    } else {
        ""
    };
    let normalized = format!("/{}{trailing}", segments.join("/"));
    utf8_percent_encode(&normalized, PATH).to_string()
}

/// Each `name=value` decoded then encoded the SigV4 way, sorted.
fn canonical_query(query: &str) -> String {
    let encode = |part: &str| {
        let decoded = percent_decode_str(part).collect::<Vec<u8>>();
        percent_encoding::percent_encode(&decoded, UNRESERVED).to_string()
    };
    let mut pairs: Vec<(String, String)> = query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (encode(name), encode(value))
        })
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(name, value)| format!("{name}={value}"))
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_forms_match_the_sdks() {
        assert_eq!(
            canonical_uri("/prod/@connections/abc%3D"),
            "/prod/%40connections/abc%253D"
        );
        assert_eq!(canonical_uri("/a//b/./c/../d/"), "/a/b/d/");
        assert_eq!(canonical_uri(""), "/");
        assert_eq!(canonical_query("b=2&a=x%20y&a=1"), "a=1&a=x%20y&b=2");
        assert_eq!(canonical_query("limit"), "limit=");
    }
}
