//! The playground page served at `/`: HTML, script and style embedded in the binary, so the page
//! works offline and always matches the server that serves it.
//!
//! The highlighting and API scripts are the browser extension's own files
//! (`extension/kefu-highlight.js`, `extension/kefu-api.js`): the page and the extension
//! underline drafts and talk to the server with the same code.

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::{ApiError, AppState};
use crate::fingerprint::fnv1a;

/// One embedded file.
struct Asset {
    name: &'static str,
    mime: &'static str,
    body: &'static str,
}

const INDEX: Asset = Asset {
    name: "index.html",
    mime: "text/html; charset=utf-8",
    body: include_str!("web/index.html"),
};

const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

const ASSETS: &[Asset] = &[
    Asset {
        name: "playground.js",
        mime: JS,
        body: include_str!("web/playground.js"),
    },
    Asset {
        name: "playground.css",
        mime: CSS,
        body: include_str!("web/playground.css"),
    },
    Asset {
        name: "kefu-api.js",
        mime: JS,
        body: include_str!("../../extension/kefu-api.js"),
    },
    Asset {
        name: "kefu-highlight.js",
        mime: JS,
        body: include_str!("../../extension/kefu-highlight.js"),
    },
    Asset {
        name: "icon.svg",
        mime: "image/svg+xml",
        body: include_str!("web/icon.svg"),
    },
];

/// The page allows only its own scripts, styles and API: nothing remote, nothing inline.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
                   connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// `/` and `/assets/{name}`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/",
            get(|headers: HeaderMap| async move { serve(&INDEX, &headers) }),
        )
        .route("/assets/{name}", get(asset))
}

async fn asset(Path(name): Path<String>, headers: HeaderMap) -> Result<Response, ApiError> {
    ASSETS
        .iter()
        .find(|a| a.name == name)
        .map(|a| serve(a, &headers))
        .ok_or_else(|| ApiError::not_found(format!("no asset named {name:?}")))
}

/// The asset with a content-hash ETag; `If-None-Match` with that tag answers 304.
fn serve(asset: &Asset, headers: &HeaderMap) -> Response {
    let etag = format!("\"{:016x}\"", fnv1a(asset.body.as_bytes()));
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        ([(header::CONTENT_TYPE, asset.mime)], asset.body).into_response()
    };
    let h = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    // Revalidated on every load, so a new release's page is never mixed with an old script.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if asset.name == INDEX.name {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        );
        h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_refers_only_to_embedded_assets() {
        for part in INDEX.body.split("/assets/").skip(1) {
            let name = part.split('"').next().unwrap();
            assert!(
                ASSETS.iter().any(|a| a.name == name),
                "index.html refers to /assets/{name}, which is not embedded"
            );
        }
        assert!(!INDEX.body.contains("http://") && !INDEX.body.contains("https://"));
    }
}
