//! The operator's web console, `GET /console`: one page and its modules and
//! style, embedded in the binary (no CDN, no build step, no framework).
//!
//! The page holds no data and needs no credentials to load: it asks for the
//! API token (kept in the tab's session storage) and sends it, as
//! `Authorization: Bearer`, with each request it makes, all to this
//! listener's own endpoints (`@routes`, `@connections`, `@groups`, `@tail`,
//! and `/metrics` for the routes' rates and latencies), so it sees and does
//! exactly what the token allows through the API. With no credentials
//! configured (the API open, on loopback) it never asks.
//!
//! The page is served with a content security policy that lets it load and
//! reach nothing but this listener, and forbids framing it.

use bytes::Bytes;
use http::{Method, Response, StatusCode, header};
use http_body_util::Full;

use super::response::{ApiError, ApiResponse};

/// Where the console is.
pub const PATH: &str = "/console";

/// One embedded file.
struct Asset {
    path: &'static str,
    content_type: &'static str,
    body: &'static str,
}

const HTML: &str = "text/html; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

/// Every file of the console, by path.
const ASSETS: &[Asset] = &[
    Asset {
        path: PATH,
        content_type: HTML,
        body: include_str!("assets/index.html"),
    },
    Asset {
        path: "/console/console.css",
        content_type: CSS,
        body: include_str!("assets/console.css"),
    },
    Asset {
        path: "/console/main.js",
        content_type: JS,
        body: include_str!("assets/main.js"),
    },
    Asset {
        path: "/console/api.js",
        content_type: JS,
        body: include_str!("assets/api.js"),
    },
    Asset {
        path: "/console/dom.js",
        content_type: JS,
        body: include_str!("assets/dom.js"),
    },
    Asset {
        path: "/console/charts.js",
        content_type: JS,
        body: include_str!("assets/charts.js"),
    },
    Asset {
        path: "/console/metrics.js",
        content_type: JS,
        body: include_str!("assets/metrics.js"),
    },
    Asset {
        path: "/console/routes.js",
        content_type: JS,
        body: include_str!("assets/routes.js"),
    },
    Asset {
        path: "/console/connections.js",
        content_type: JS,
        body: include_str!("assets/connections.js"),
    },
    Asset {
        path: "/console/groups.js",
        content_type: JS,
        body: include_str!("assets/groups.js"),
    },
    Asset {
        path: "/console/tail.js",
        content_type: JS,
        body: include_str!("assets/tail.js"),
    },
];

/// What the page may load and reach: this listener only.
const POLICY: &str = "default-src 'self'; img-src 'self' data:; object-src 'none'; \
                      base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// Whether `path` is the console's.
pub fn serves(path: &str) -> bool {
    path == PATH || path.starts_with("/console/")
}

/// The console's file at `path` (the page itself at `/console` and
/// `/console/`); 404 for any other, 405 for a method but GET.
pub fn respond(method: &Method, path: &str) -> ApiResponse {
    if method != Method::GET {
        return ApiError::method_not_allowed("GET").into_response();
    }
    let path = match path {
        "/console/" => PATH,
        path => path,
    };
    let Some(asset) = ASSETS.iter().find(|asset| asset.path == path) else {
        return ApiError::not_found(format!("the console has no file at {path}")).into_response();
    };
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, asset.content_type)
        .header(header::CACHE_CONTROL, "no-cache")
        .header(header::CONTENT_SECURITY_POLICY, POLICY)
        .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
        .header(header::REFERRER_POLICY, "no-referrer")
        .body(Full::new(Bytes::from_static(asset.body.as_bytes())))
        .expect("a console response is valid")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serves_its_files_and_nothing_else() {
        let page = respond(&Method::GET, "/console");
        assert_eq!(page.status(), 200);
        assert_eq!(page.headers()[header::CONTENT_TYPE], HTML);
        assert!(
            page.headers()[header::CONTENT_SECURITY_POLICY]
                .to_str()
                .unwrap()
                .contains("frame-ancestors 'none'")
        );
        assert_eq!(respond(&Method::GET, "/console/").status(), 200);
        assert_eq!(
            respond(&Method::GET, "/console/main.js").headers()[header::CONTENT_TYPE],
            JS
        );
        assert_eq!(
            respond(&Method::GET, "/console/../Cargo.toml").status(),
            404
        );
        assert_eq!(respond(&Method::POST, "/console").status(), 405);
        assert!(serves("/console") && serves("/console/x.js") && !serves("/consoles"));
    }

    #[test]
    fn every_module_the_page_imports_is_served() {
        for asset in ASSETS {
            for import in asset.body.match_indices("from './") {
                let rest = &asset.body[import.0 + "from './".len()..];
                let file = &rest[..rest.find('\'').expect("a closed import")];
                let path = format!("/console/{file}");
                assert!(
                    ASSETS.iter().any(|asset| asset.path == path),
                    "{} imports {path}, which is not embedded",
                    asset.path
                );
            }
        }
    }
}
