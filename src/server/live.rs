//! The live preview over HTTP: the site built with drafts, served at `/`
//! (to logged-in users, or to anyone on loopback), with a script that reloads
//! open pages when a rebuild finishes (server-sent events).

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::json;
use tower::ServiceExt as _;

use crate::server::session::CurrentUser;
use crate::server::state::AppState;

/// The preview's Content-Security-Policy: author HTML (when `raw_html =
/// "allow"`) shares an origin with the admin, so scripts are limited to the
/// site's own files and nothing may frame it.
const PREVIEW_CSP: &str = "default-src 'self'; img-src 'self' data: https:; media-src 'self' https:; \
     style-src 'self' 'unsafe-inline'; script-src 'self'; frame-src https:; object-src 'none'; \
     base-uri 'none'; frame-ancestors 'none'";

/// Whether the preview may be shown without a login: only to a browser on
/// this machine, talking to a loopback-bound server directly (no proxy in
/// between) under a local host name (no DNS rebinding).
fn open_without_login(state: &AppState, request: &Request) -> bool {
    let peer_is_local = request
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .is_some_and(|c| c.0.ip().is_loopback());
    let proxied = request.headers().contains_key("x-forwarded-for")
        || request.headers().contains_key(header::FORWARDED);
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    state.is_loopback() && peer_is_local && !proxied && is_local_host(host)
}

/// `localhost`, `*.localhost`, `127.x.x.x` or `[::1]`, with any port.
fn is_local_host(host: &str) -> bool {
    let name = if let Some(rest) = host.strip_prefix('[') {
        rest.split(']').next().unwrap_or("")
    } else {
        host.rsplit_once(':').map_or(host, |(name, _)| name)
    };
    let name = name.to_ascii_lowercase();
    name == "localhost"
        || name.ends_with(".localhost")
        || name == "::1"
        || name
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Serves the preview at `/`. Drafts are in it, so it needs a login unless
/// [`open_without_login`] holds.
pub async fn serve(
    State(state): State<AppState>,
    user: Option<CurrentUser>,
    request: Request,
) -> Response {
    if user.is_none() && !open_without_login(&state, &request) {
        let next = request.uri().path().to_string();
        return Redirect::to(&format!(
            "/admin/login?next={}",
            crate::build::images::encode_url_path(&next)
        ))
        .into_response();
    }
    let out_dir = state.preview().out_dir().to_path_buf();
    let service = tower_http::services::ServeDir::new(&out_dir);
    let mut response = match service.oneshot(request).await {
        Ok(response) => response.map(Body::new),
        Err(never) => match never {},
    };
    if response.status() == StatusCode::NOT_FOUND {
        let page = tokio::fs::read(out_dir.join("404.html")).await.unwrap_or_else(|_| {
            b"<!doctype html><title>Not found</title><p>Not found. The preview may still be building."
                .to_vec()
        });
        response = (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            page,
        )
            .into_response();
    }
    let is_html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
    let whole = matches!(response.status(), StatusCode::OK | StatusCode::NOT_FOUND);
    if is_html && whole {
        let (mut parts, body) = response.into_parts();
        let Ok(bytes) = axum::body::to_bytes(body, 256 * 1024 * 1024).await else {
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        };
        parts.headers.remove(header::CONTENT_LENGTH);
        // The page changes with each build; never serve it from cache.
        parts.headers.insert(
            header::CACHE_CONTROL,
            axum::http::HeaderValue::from_static("no-cache"),
        );
        parts.headers.remove(header::ETAG);
        parts.headers.remove(header::LAST_MODIFIED);
        let build = state.preview().status().id;
        response = Response::from_parts(parts, Body::from(inject_reload(&bytes, build)));
    }
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        axum::http::HeaderValue::from_static(PREVIEW_CSP),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        axum::http::HeaderValue::from_static("nosniff"),
    );
    response
}

/// The live-reload client, served at `/__quire/reload.js`.
const RELOAD_JS: &str = include_str!("preview_static/reload.js");

/// The tag added before `</body>` of every preview page, with the number of
/// the build the page came from.
fn reload_tag(build: u64) -> String {
    format!("<script src=\"/__quire/reload.js\" data-build=\"{build}\" defer></script>")
}

/// `GET /__quire/reload.js`.
pub async fn reload_js() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        RELOAD_JS,
    )
        .into_response()
}

/// `GET /__quire/events`: server-sent events, one `build` event per
/// rebuild with `{ok, errors, changed, everything}`; a failing build is
/// announced at once to new listeners, so the overlay shows on load too.
pub async fn events(
    State(state): State<AppState>,
    user: Option<CurrentUser>,
    request: Request,
) -> Response {
    use axum::response::sse::{Event, KeepAlive, Sse};
    if user.is_none() && !open_without_login(&state, &request) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    // Subscribe before reading the status, so no build falls in between;
    // the current status goes first, so a page notices builds it missed.
    let receiver = state.preview().subscribe();
    let current = state.preview().status();
    let first = current.finished.is_some().then_some(current);
    let closing = state.preview().closing();
    let stream = futures_util::stream::unfold(
        (first, receiver, closing),
        |(first, mut receiver, mut closing)| async move {
            let status = match first {
                Some(status) => status,
                None => loop {
                    if *closing.borrow() {
                        return None;
                    }
                    tokio::select! {
                        received = receiver.recv() => match received {
                            Ok(status) => break status,
                            Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                            Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
                        },
                        changed = closing.changed() => if changed.is_err() { return None },
                    }
                },
            };
            let data = json!({
                "id": status.id,
                "ok": status.ok,
                "errors": status.errors,
                "changed": status.changed,
                "everything": status.everything,
            });
            let event = Event::default().event("build").data(data.to_string());
            Some((
                Ok::<_, std::convert::Infallible>(event),
                (None, receiver, closing),
            ))
        },
    );
    Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response()
}

/// Adds the reload script to an HTML page (before the last `</body>`).
fn inject_reload(html: &[u8], build: u64) -> Vec<u8> {
    let at = html
        .windows(7)
        .rposition(|w| w.eq_ignore_ascii_case(b"</body>"))
        .unwrap_or(html.len());
    let tag = reload_tag(build);
    let mut out = Vec::with_capacity(html.len() + tag.len());
    out.extend_from_slice(&html[..at]);
    out.extend_from_slice(tag.as_bytes());
    out.extend_from_slice(&html[at..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reload_script_goes_before_the_last_body_end() {
        let page = b"<html><body><p>x</p></BODY></html>";
        let out = String::from_utf8(inject_reload(page, 7)).unwrap();
        assert_eq!(
            out,
            format!("<html><body><p>x</p>{}</BODY></html>", reload_tag(7))
        );
        assert!(
            String::from_utf8(inject_reload(b"<p>bare", 1))
                .unwrap()
                .ends_with(&reload_tag(1))
        );
    }

    #[test]
    fn local_hosts() {
        for host in [
            "localhost",
            "localhost:8080",
            "127.0.0.1:9",
            "[::1]:8080",
            "blog.localhost",
        ] {
            assert!(is_local_host(host), "{host}");
        }
        for host in [
            "",
            "evil.example",
            "evil.example:8080",
            "127.0.0.1.evil.example",
            "10.0.0.1:80",
        ] {
            assert!(!is_local_host(host), "{host}");
        }
    }
}
