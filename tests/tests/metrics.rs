//! `GET /metrics` as scrapers see it: the format its `Accept` header asks for
//! (the Prometheus text format for plain-text parsers, OpenMetrics otherwise),
//! and every labelled family there from the start, its known series at 0.

use wsgate_tests::http::{HttpResponse, request};
use wsgate_tests::scrape::Scrape;
use wsgate_tests::{Gateway, GatewayBuilder, WAIT, deploy, eventually, tagger_version};

const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
const PROMETHEUS_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// `GET /metrics`, with `accept` as its `Accept` header if any.
async fn scrape(gateway: &Gateway, accept: Option<&str>) -> HttpResponse {
    let headers: Vec<(&str, &str)> = accept.iter().map(|accept| ("Accept", *accept)).collect();
    let response = request(gateway.api_addr, "GET", "/metrics", &headers, b"").await;
    assert_eq!(response.status, 200, "{response:?}");
    response
}

#[tokio::test]
async fn the_format_is_the_one_the_accept_header_prefers_openmetrics_by_default() {
    let gateway = GatewayBuilder::new().probe(&["$default"]).start();
    for (accept, format) in [
        (None, OPENMETRICS),
        (Some("*/*"), OPENMETRICS),
        (Some("application/openmetrics-text"), OPENMETRICS),
        // Prometheus 2 with its default scrape protocols.
        (
            Some(
                "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
            ),
            OPENMETRICS,
        ),
        // Prometheus 3, whose parameters name variants of the same formats.
        (
            Some(
                "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.3,text/plain;version=0.0.4;q=0.2,*/*;q=0.1",
            ),
            OPENMETRICS,
        ),
        // Prometheus scraping with the text format only, and plain tools.
        (
            Some("text/plain;version=0.0.4;q=0.5,*/*;q=0.1"),
            PROMETHEUS_TEXT,
        ),
        (Some("text/plain; version=0.0.4"), PROMETHEUS_TEXT),
        (Some("text/plain"), PROMETHEUS_TEXT),
        (Some("text/*, */*;q=0.1"), PROMETHEUS_TEXT),
        (
            Some("application/openmetrics-text;q=0, */*"),
            PROMETHEUS_TEXT,
        ),
        (Some("application/json"), OPENMETRICS),
    ] {
        let response = scrape(&gateway, accept).await;
        assert_eq!(
            response.header("content-type"),
            Some(format),
            "Accept: {accept:?}"
        );
        let text = response.text();
        assert_eq!(
            text.ends_with("# EOF\n"),
            format == OPENMETRICS,
            "{accept:?}:\n{text}"
        );
    }
}

#[tokio::test]
async fn a_plain_text_parser_reads_every_family_with_its_type() {
    let gateway = GatewayBuilder::new().probe(&["$connect", "whoami"]).start();
    let mut client = gateway.connect("/").await;
    client.whoami_id().await;
    let text = scrape(&gateway, Some("text/plain;version=0.0.4;q=0.5,*/*;q=0.1"))
        .await
        .text();
    let scrape = Scrape::parse(&text);
    assert_eq!(scrape.untyped(), Vec::<&str>::new(), "\n{text}");
    assert_eq!(scrape.retyped(), &[] as &[String], "\n{text}");
    for (name, kind) in [
        ("wsgate_connections_accepted_total", "counter"),
        ("wsgate_messages_in_total", "counter"),
        ("wsgate_plugin_swaps_total", "counter"),
        ("wsgate_connections_open", "gauge"),
        ("wsgate_handler_duration_seconds_bucket", "histogram"),
        ("wsgate_handler_duration_seconds_count", "histogram"),
    ] {
        assert_eq!(scrape.type_of(name), kind, "{name} in\n{text}");
    }
    // The text format names a counter's family with its samples' `_total`.
    for (family, kind) in scrape.families() {
        assert_eq!(
            family.ends_with("_total"),
            kind == "counter",
            "{family} is a {kind}"
        );
    }
    assert_eq!(scrape.value("wsgate_connections_accepted_total"), Some(1.0));
    assert_eq!(
        scrape.value("wsgate_messages_in_total{route=\"whoami\"}"),
        Some(1.0)
    );
}

/// The series a bound route has from the moment it is bound.
fn route_series(route: &str) -> Vec<String> {
    let mut series = vec![
        format!("wsgate_messages_in_total{{route=\"{route}\"}}"),
        format!("wsgate_messages_out_total{{route=\"{route}\"}}"),
        format!("wsgate_messages_throttled_total{{route=\"{route}\"}}"),
        format!("wsgate_handler_duration_seconds_count{{route=\"{route}\"}}"),
    ];
    for kind in ["trap", "error", "invalid-response"] {
        series.push(format!(
            "wsgate_handler_errors_total{{route=\"{route}\",kind=\"{kind}\"}}"
        ));
    }
    series
}

#[tokio::test]
async fn every_labelled_family_is_scraped_at_zero_before_its_first_event() {
    let gateway = GatewayBuilder::new()
        .probe(&["$connect", "whoami", "$default"])
        .start();
    for accept in [None, Some("text/plain")] {
        let text = scrape(&gateway, accept).await.text();
        let scrape = Scrape::parse(&text);
        let zero = |series: &str| {
            assert_eq!(scrape.value(series), Some(0.0), "{series} in\n{text}");
        };
        // Admission's refusals, and `$connect`'s when it fails.
        for status in [400, 403, 429, 500, 503] {
            zero(&format!(
                "wsgate_connections_rejected_total{{status=\"{status}\"}}"
            ));
        }
        for route in ["$connect", "whoami", "$default"] {
            route_series(route).iter().for_each(|series| zero(series));
            zero(&format!("wsgate_plugin_swaps_total{{route=\"{route}\"}}"));
        }
        // No handler runs for a message no route took, and `-` is never swapped.
        assert!(
            !text.contains("wsgate_handler_errors_total{route=\"-\""),
            "{text}"
        );
        assert!(
            !text.contains("wsgate_plugin_swaps_total{route=\"-\""),
            "{text}"
        );
    }

    // A route bound by hot swap has its series at once, its swap counted.
    deploy(
        gateway.plugins_dir(),
        "shout.wasm",
        &tagger_version("shout"),
    );
    let swapped = "wsgate_plugin_swaps_total{route=\"shout\"} is 1";
    let (scrape, text) = eventually(swapped, WAIT, async || {
        let text = scrape(&gateway, None).await.text();
        let scrape = Scrape::parse(&text);
        match scrape.value("wsgate_plugin_swaps_total{route=\"shout\"}") {
            Some(1.0) => Ok((scrape, text)),
            _ => Err(format!("\n{text}")),
        }
    })
    .await;
    for series in route_series("shout") {
        assert_eq!(scrape.value(&series), Some(0.0), "{series} in\n{text}");
    }
}
