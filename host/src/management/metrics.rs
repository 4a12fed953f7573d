//! `GET /metrics`: the gateway's metrics in the format the scraper's `Accept`
//! header prefers: the Prometheus text format when it ranks `text/plain`
//! above OpenMetrics (older Prometheus set to it, plain tools), OpenMetrics
//! otherwise (newer Prometheus, no `Accept`, `*/*`, a tie).

use bytes::Bytes;
use http::{HeaderMap, Response, StatusCode, header};
use http_body_util::Full;
use mediatype::{MediaTypeList, Name, ReadParams, names};

use super::response::ApiResponse;
use crate::observability::metrics::{Exposition, Metrics};

/// Every metric, in the format `headers` ask for.
pub fn respond(metrics: &Metrics, headers: &HeaderMap) -> ApiResponse {
    let format = negotiate(headers);
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, format.content_type())
        .body(Full::new(Bytes::from(metrics.render(format))))
        .expect("a metrics response is valid")
}

/// The format the `Accept` headers rank highest, OpenMetrics on a tie.
///
/// Negotiated here rather than by a crate: `headers-accept` matches a media
/// type's parameters exactly, while Prometheus sends parameters that name
/// variants of one format (`version=0.0.1`, `escaping=allow-utf-8`), and this
/// endpoint answers every variant of a format with the one version it has, so
/// a range matches on its type and subtype alone. `mediatype` parses the list.
fn negotiate(headers: &HeaderMap) -> Exposition {
    let openmetrics = quality(headers, names::APPLICATION, OPENMETRICS_TEXT);
    let text = quality(headers, names::TEXT, names::PLAIN);
    match text > openmetrics {
        true => Exposition::PrometheusText,
        false => Exposition::OpenMetrics,
    }
}

/// The subtype of OpenMetrics text, `application/openmetrics-text`.
const OPENMETRICS_TEXT: Name<'static> = Name::new_unchecked("openmetrics-text");

/// How much `headers` want `ty/subty`, in thousandths: the highest `q` of the
/// most specific ranges that match it (RFC 9110 §12.5.1), 0 when none does.
fn quality(headers: &HeaderMap, ty: Name<'_>, subty: Name<'_>) -> u16 {
    let ranges = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(MediaTypeList::new)
        .filter_map(Result::ok);
    let mut best = (0, 0);
    for range in ranges {
        let specificity = match (range.ty == ty, range.subty == subty) {
            (true, true) => 3,
            (true, false) if range.subty == names::_STAR => 2,
            _ if range.ty == names::_STAR && range.subty == names::_STAR => 1,
            _ => continue,
        };
        let q = range
            .get_param(names::Q)
            .map_or(Some(1000), |q| thousandths(&q.unquoted_str()));
        if let Some(q) = q {
            best = best.max((specificity, q));
        }
    }
    best.1
}

/// A `q` value (`0` to `1`, at most three decimals) in thousandths; none
/// when it is not one.
fn thousandths(q: &str) -> Option<u16> {
    let (whole, fraction) = q.split_once('.').unwrap_or((q, ""));
    if fraction.len() > 3 || !fraction.bytes().all(|digit| digit.is_ascii_digit()) {
        return None;
    }
    let fraction: u16 = format!("{fraction:0<3}").parse().ok()?;
    match whole {
        "0" => Some(fraction),
        "1" if fraction == 0 => Some(1000),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accepting(accept: &str) -> Exposition {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT, accept.parse().expect("a header value"));
        negotiate(&headers)
    }

    #[test]
    fn the_most_specific_range_decides_and_openmetrics_wins_a_tie() {
        assert_eq!(negotiate(&HeaderMap::new()), Exposition::OpenMetrics);
        for (accept, format) in [
            ("*/*", Exposition::OpenMetrics),
            ("text/plain", Exposition::PrometheusText),
            (
                "text/plain;q=0.5, application/openmetrics-text;q=0.5",
                Exposition::OpenMetrics,
            ),
            ("TEXT/Plain; version=0.0.4", Exposition::PrometheusText),
            ("text/plain;q=0, */*", Exposition::OpenMetrics),
            (
                "text/*;q=0.3, text/plain;q=0.2, */*;q=0.25",
                Exposition::OpenMetrics,
            ),
            (
                "application/openmetrics-text;q=0.001, text/plain;q=0",
                Exposition::OpenMetrics,
            ),
            (
                "application/openmetrics-text;q=0.4, text/plain;q=0.41",
                Exposition::PrometheusText,
            ),
            // A malformed q is no preference; the other ranges still count.
            (
                "application/openmetrics-text;q=2, text/plain;q=0.1",
                Exposition::PrometheusText,
            ),
        ] {
            assert_eq!(accepting(accept), format, "{accept}");
        }
    }

    #[test]
    fn q_values_are_read_in_thousandths() {
        for (q, expected) in [
            ("1", Some(1000)),
            ("1.000", Some(1000)),
            ("0", Some(0)),
            ("0.5", Some(500)),
            ("0.05", Some(50)),
            ("0.125", Some(125)),
            ("1.5", None),
            ("0.1234", None),
            ("-0.1", None),
            ("0.+1", None),
            ("x", None),
        ] {
            assert_eq!(thousandths(q), expected, "{q}");
        }
    }
}
