//! The live preview: the site built with drafts into `.quire/preview/` and
//! served at `/`, rebuilt after every change; with `--publish`, public/ is
//! rebuilt too (production build, no drafts).
//!
//! Builds run one at a time on a blocking thread, never on the async
//! workers. Requests that arrive while a build runs are coalesced: the next
//! build covers all of them, and everyone who asked waits for a build that
//! started after their change, so a save is visible when its response
//! arrives. A failed build leaves the last good preview in place (the
//! build core only replaces output after a fully successful build).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Instant;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use serde::Serialize;
use serde_json::json;
use tower::ServiceExt as _;

use super::session::CurrentUser;
use super::state::{AppState, Logger};
use crate::build::{BuildOptions, Mode};
use crate::config::Config;

/// The result of the latest preview build.
#[derive(Debug, Clone, Default, Serialize)]
pub struct BuildStatus {
    /// No errors.
    pub ok: bool,
    /// Errors as `path:line:col: message`.
    pub errors: Vec<String>,
    /// Number of warnings.
    pub warnings: usize,
    /// HTML pages built.
    pub pages: usize,
    /// Milliseconds taken.
    pub ms: u64,
    /// When it finished (RFC 3339); `None` before the first build.
    pub finished: Option<String>,
}

impl BuildStatus {
    /// The part API responses carry.
    pub fn summary(&self) -> serde_json::Value {
        json!({ "ok": self.ok, "errors": self.errors })
    }
}

/// The preview builder, cheap to clone.
#[derive(Clone)]
pub struct Preview {
    inner: Arc<Inner>,
}

struct Inner {
    root: PathBuf,
    out_dir: PathBuf,
    base_url: String,
    publish: bool,
    lock: tokio::sync::Mutex<()>,
    requested: AtomicU64,
    completed: AtomicU64,
    status: RwLock<Arc<BuildStatus>>,
    log: Logger,
}

impl Preview {
    /// A builder for the site at `root`, previewed at `base_url`.
    pub fn new(root: &Path, base_url: String, publish: bool, log: Logger) -> Self {
        Self {
            inner: Arc::new(Inner {
                root: root.to_path_buf(),
                out_dir: root.join(".quire/preview"),
                base_url,
                publish,
                lock: tokio::sync::Mutex::new(()),
                requested: AtomicU64::new(0),
                completed: AtomicU64::new(0),
                status: RwLock::new(Arc::new(BuildStatus::default())),
                log,
            }),
        }
    }

    /// The folder the preview is built into.
    pub fn out_dir(&self) -> &Path {
        &self.inner.out_dir
    }

    /// The latest build's result.
    pub fn status(&self) -> Arc<BuildStatus> {
        self.inner
            .status
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Rebuilds and waits until a build that started after this call has
    /// finished; returns its status.
    pub async fn rebuild(&self) -> Arc<BuildStatus> {
        let inner = &self.inner;
        let mine = inner.requested.fetch_add(1, Ordering::SeqCst) + 1;
        let _guard = inner.lock.lock().await;
        if inner.completed.load(Ordering::SeqCst) >= mine {
            return self.status();
        }
        let covers = inner.requested.load(Ordering::SeqCst);
        let this = self.clone();
        let status = tokio::task::spawn_blocking(move || this.build_now())
            .await
            .unwrap_or_else(|err| BuildStatus {
                errors: vec![format!("the build crashed: {err}")],
                ..BuildStatus::default()
            });
        let status = Arc::new(status);
        *inner.status.write().unwrap_or_else(|p| p.into_inner()) = status.clone();
        inner.completed.store(covers, Ordering::SeqCst);
        status
    }

    /// Starts a rebuild without waiting for it.
    pub fn request_rebuild(&self) {
        let this = self.clone();
        tokio::spawn(async move {
            this.rebuild().await;
        });
    }

    fn build_now(&self) -> BuildStatus {
        let inner = &self.inner;
        let start = Instant::now();
        let mut config = match Config::load(&inner.root) {
            Ok(config) => config,
            Err(diagnostics) => {
                let errors: Vec<String> = diagnostics.iter().map(ToString::to_string).collect();
                for error in &errors {
                    (inner.log)(&format!("preview build: {error}"));
                }
                return BuildStatus {
                    errors,
                    finished: Some(Utc::now().to_rfc3339()),
                    ..BuildStatus::default()
                };
            }
        };
        let production = config.clone();
        if let Err(message) = config.set_base_url(&inner.base_url) {
            return BuildStatus {
                errors: vec![message],
                ..BuildStatus::default()
            };
        }
        let mut options = BuildOptions::new(&config);
        options.out_dir.clone_from(&inner.out_dir);
        options.include_drafts = true;
        options.mode = Mode::Build;
        let outcome = crate::build::build(&config, &options);
        let mut errors: Vec<String> = outcome
            .diagnostics
            .errors()
            .map(ToString::to_string)
            .collect();
        let warnings = outcome.diagnostics.warnings().count();
        if inner.publish && outcome.is_ok() {
            let public = crate::build::build(&production, &BuildOptions::new(&production));
            errors.extend(public.diagnostics.errors().map(|d| format!("public/: {d}")));
        }
        let ms = u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX);
        if errors.is_empty() {
            (inner.log)(&format!(
                "preview rebuilt: {} pages in {ms} ms",
                outcome.report.pages
            ));
        } else {
            (inner.log)(&format!(
                "preview build failed with {} errors; the last good preview stays",
                errors.len()
            ));
            for error in &errors {
                (inner.log)(&format!("  {error}"));
            }
        }
        BuildStatus {
            ok: errors.is_empty(),
            errors,
            warnings,
            pages: outcome.report.pages,
            ms,
            finished: Some(Utc::now().to_rfc3339()),
        }
    }
}

/// `GET /api/v1/build`: the latest preview build's result.
pub async fn status(State(state): State<AppState>, _user: CurrentUser) -> Response {
    axum::Json(json!(*state.preview().status())).into_response()
}

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
        return Redirect::to(&format!("/admin/login?next={}", urlencode(&next))).into_response();
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

/// Percent-encodes a path for a query parameter.
pub fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

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
