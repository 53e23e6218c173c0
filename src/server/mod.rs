//! The authoring server (`quire serve`): the JSON API under `/api/v1`, the
//! HTML UI under `/admin`, and the live preview at `/`.
//!
//! Layers, lowest first (a file only uses files of its own layer or
//! below, and no two files use each other; `tests/tidy.rs` checks it):
//! [`error`], [`preview`], [`session_store`], [`ui::templates`] → [`state`]
//! → [`session`], [`extract`] → [`ops`] (what the server does, for the
//! current user) → [`api`] (JSON) and [`ui`] (HTML pages), [`live`] (the
//! preview at `/`) → this file (the router). Every response under
//! `/api` and `/admin` carries the security headers; every error under
//! `/api` uses the JSON envelope, including the framework's own (unknown
//! route, wrong method, body too large, timeout).

pub mod api;
mod drain;
pub mod error;
pub mod extract;
pub mod live;
pub mod ops;
pub mod preview;
pub mod session;
pub mod session_store;
pub mod state;
pub mod ui;
pub mod watch;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use error::{ApiError, InternalCause};
use session::LogUser;
use state::AppState;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

/// Longest time one request may take.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The whole application: routes, sessions, limits, headers, logging.
pub fn router(state: AppState) -> Router {
    let config = state.config();
    let https = config.server.https;
    let idle = i64::try_from(config.server.session_idle.as_secs()).unwrap_or(1800);
    let sessions = SessionManagerLayer::new(state.sessions().clone())
        .with_name(if https { "__Host-quire" } else { "quire" })
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(https)
        .with_path("/")
        .with_expiry(Expiry::OnInactivity(
            tower_sessions::cookie::time::Duration::seconds(idle),
        ));
    let upload_limit = usize::try_from(state.media().max_upload())
        .unwrap_or(usize::MAX)
        .saturating_add(1024 * 1024);
    let uploads = Router::new()
        .route("/media", post(api::media::upload))
        .route("/me/avatar", put(api::media::avatar))
        .layer(DefaultBodyLimit::max(upload_limit));
    let api = Router::new()
        .route(
            "/session",
            post(api::session::login).delete(api::session::logout),
        )
        .route("/session/totp", post(api::totp::login_step))
        .route(
            "/me/totp",
            post(api::totp::setup).delete(api::totp::disable),
        )
        .route("/me/totp/confirm", post(api::totp::confirm))
        .route("/register", post(api::session::register))
        .route("/password-reset", post(api::session::password_reset))
        .route("/me", get(api::users::me))
        .route("/me/profile", put(api::users::profile))
        .route("/me/password", put(api::users::password))
        .route("/posts", get(api::posts::list).post(api::posts::create))
        .route("/tags", get(api::posts::tags))
        .route(
            "/posts/{slug}",
            get(api::posts::get)
                .put(api::posts::update)
                .delete(api::posts::delete),
        )
        .route("/posts/{slug}/history", get(api::history::list))
        .route("/posts/{slug}/history/{revision}", get(api::history::one))
        .route("/posts/{slug}/restore", post(api::history::restore))
        .route("/media", get(api::media::list))
        .route("/media/{*path}", delete(api::media::delete))
        .route("/users", get(api::users::list).post(api::users::create))
        .route(
            "/users/{name}",
            axum::routing::patch(api::users::patch).delete(api::users::remove),
        )
        .route(
            "/settings",
            get(api::users::settings).put(api::users::put_settings),
        )
        .route("/audit", get(api::audit::list))
        .route("/build", get(api::build::status))
        .layer(DefaultBodyLimit::max(extract::JSON_LIMIT))
        .merge(uploads)
        .fallback(api_not_found)
        .method_not_allowed_fallback(api_method_not_allowed)
        .layer(middleware::from_fn(api_csrf))
        .layer(middleware::from_fn(json_errors));
    Router::new()
        .nest("/api/v1", api)
        .route("/api", get(api_not_found))
        .route("/api/{*rest}", axum::routing::any(api_not_found))
        .route("/__quire/events", get(live::events))
        .route("/__quire/reload.js", get(live::reload_js))
        .route(
            "/admin",
            get(|| async { axum::response::Redirect::permanent("/admin/") }),
        )
        .route("/admin/", get(ui::dashboard::dashboard))
        .nest("/admin", ui::routes(upload_limit))
        .fallback(live::serve)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            totp_setup_gate,
        ))
        .layer(middleware::from_fn(security_headers))
        .layer(sessions)
        .layer(middleware::from_fn(timeout))
        .layer(middleware::from_fn_with_state(upload_limit, body_limits))
        .layer(middleware::from_fn_with_state(state.clone(), log_requests))
        .with_state(state)
}

async fn api_not_found() -> ApiError {
    ApiError::not_found("there is no such API route; see the API table in the README")
}

async fn api_method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this route does not accept that method; see the API table in the README",
    )
}

/// Refuses a body whose announced `Content-Length` is over the route's
/// limit at once, before reading any of it (the extractors' limits also
/// hold for bodies without a length); within the limit, reads what a
/// handler left unread so the connection can be reused ([`drain`]).
async fn body_limits(State(upload_limit): State<usize>, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let is_upload = matches!(
        path,
        "/api/v1/media" | "/api/v1/me/avatar" | "/admin/media" | "/admin/profile/avatar"
    );
    let limit = if is_upload {
        upload_limit
    } else {
        extract::JSON_LIMIT
    };
    let announced = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|length| length > limit as u64) {
        let message = if is_upload {
            format!(
                "the upload is larger than the limit of {} MiB (server.max_upload_mib)",
                (limit - 1024 * 1024) / (1024 * 1024)
            )
        } else {
            "the request body is larger than the limit of 2 MiB".to_string()
        };
        return ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large", message).into_response();
    }
    drain::finish_reading(request, next, limit).await
}

/// With `[server] require_2fa_for_admins`, an admin logged in without
/// two-factor login may only set it up (or log out): every other request
/// is refused (API) or sent to the setup on the profile page (UI).
async fn totp_setup_gate(
    State(state): State<AppState>,
    session: tower_sessions::Session,
    request: Request,
    next: Next,
) -> Response {
    if !state.config().server.require_2fa_for_admins
        || session::open_before_totp_setup(request.method(), request.uri().path())
    {
        return next.run(request).await;
    }
    match session::current(&session, &state).await {
        Ok(Some(user)) if user.needs_totp_setup => {
            if request.uri().path().starts_with("/api") {
                ApiError::new(
                    StatusCode::FORBIDDEN,
                    "totp_setup_required",
                    "this site requires admins to use two-factor login: turn it on first (POST /api/v1/me/totp)",
                )
                .into_response()
            } else {
                axum::response::Redirect::to("/admin/profile#two-factor").into_response()
            }
        }
        Ok(_) => next.run(request).await,
        Err(err) => err.into_response(),
    }
}

/// Ends requests that take longer than [`REQUEST_TIMEOUT`] with 503.
async fn timeout(request: Request, next: Next) -> Response {
    match tokio::time::timeout(REQUEST_TIMEOUT, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "timeout",
            "the request took longer than 30 seconds and was stopped",
        )
        .into_response(),
    }
}

/// Unsafe API requests made with a session that has a CSRF token must
/// repeat it in `X-CSRF-Token`; requests without a session need none
/// (they cannot act as anyone).
async fn api_csrf(session: tower_sessions::Session, request: Request, next: Next) -> Response {
    let safe = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    if !safe {
        let stored = match session::stored_csrf(&session).await {
            Ok(stored) => stored,
            Err(err) => return err.into_response(),
        };
        if let Some(stored) = stored {
            let sent = request
                .headers()
                .get("x-csrf-token")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if !crate::accounts::constant_time_eq(sent, &stored) {
                return ApiError::forbidden(
                    "missing or wrong CSRF token: send the `csrf_token` from login or GET /api/v1/me in an `X-CSRF-Token` header",
                )
                .into_response();
            }
        }
    }
    next.run(request).await
}

/// Replaces non-JSON error bodies under /api (from the framework's own
/// rejections) with the envelope.
async fn json_errors(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if status.as_u16() < 400 || is_json {
        return response;
    }
    let (code, message) = match status {
        StatusCode::PAYLOAD_TOO_LARGE => (
            "too_large",
            "the request body is larger than this route accepts",
        ),
        StatusCode::METHOD_NOT_ALLOWED => (
            "method_not_allowed",
            "this route does not accept that method",
        ),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (
            "unsupported_media_type",
            "this route does not accept that content type",
        ),
        StatusCode::NOT_FOUND => ("not_found", "there is no such API route"),
        s if s.is_server_error() => (
            "internal",
            "something went wrong on the server; nothing was changed",
        ),
        _ => ("bad_request", "the request could not be understood"),
    };
    let mut replaced = ApiError::new(status, code, message).into_response();
    if let Some(cause) = response.extensions().get::<InternalCause>() {
        replaced.extensions_mut().insert(cause.clone());
    }
    replaced
}

/// Security headers for /admin and /api; `no-store` there too, so a
/// shared machine's cache never holds an authenticated page.
async fn security_headers(request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let private = path == "/admin" || path.starts_with("/admin/") || path.starts_with("/api");
    let mut response = next.run(request).await;
    if private {
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
            ),
        );
        headers.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        headers.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        );
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// One line per request: user, method, path (never the query, which may
/// hold a reset token), status, milliseconds; the cause of a 5xx.
async fn log_requests(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let start = Instant::now();
    let user = LogUser::default();
    request.extensions_mut().insert(user.clone());
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let response = next.run(request).await;
    let ms = start.elapsed().as_secs_f64() * 1000.0;
    let status = response.status().as_u16();
    state.log(&format!(
        "{} {method} {path} {status} {ms:.1}ms",
        user.get()
    ));
    if let Some(InternalCause(cause)) = response.extensions().get::<InternalCause>() {
        state.log(&format!("  error: {cause}"));
    }
    response
}

/// Options of [`serve`].
pub struct ServeOptions {
    /// Where to listen.
    pub bind: SocketAddr,
    /// Also keep public/ current.
    pub publish: bool,
    /// Log sink.
    pub log: preview::Logger,
}

/// Runs the server until `shutdown` completes, then finishes the requests
/// in flight. Builds the preview once before accepting requests.
pub async fn serve(
    config: crate::config::Config,
    options: ServeOptions,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    use anyhow::Context as _;
    let listener = tokio::net::TcpListener::bind(options.bind)
        .await
        .with_context(|| format!("cannot listen on {}", options.bind))?;
    let local = listener.local_addr()?;
    let host = if local.ip().is_unspecified() {
        format!("localhost:{}", local.port())
    } else {
        local.to_string()
    };
    let accounts = crate::accounts::AccountStore::open(&config.server.credentials)?;
    let preview = preview::Preview::new(
        &config.root,
        format!("http://{host}/"),
        options.publish,
        options.log.clone(),
    );
    let state = AppState::new(
        config,
        accounts,
        preview.clone(),
        options.log.clone(),
        local,
    );
    let router = router(state.clone());
    // Watch first: a change made during the first build is not missed.
    let root = std::fs::canonicalize(&state.config().root).with_context(|| {
        format!(
            "cannot find the site folder {}",
            state.config().root.display()
        )
    })?;
    let _watcher = watch::start(&root, preview.clone(), options.log.clone())
        .context("cannot watch the site for changes")?;
    preview.rebuild().await;
    preview.schedule_rebuilds();
    let sweeper = state.sessions().clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(300));
        loop {
            every.tick().await;
            sweeper.remove_expired();
        }
    });
    let closing = preview.clone();
    let shutdown = async move {
        shutdown.await;
        closing.close();
    };
    (options.log)(&format!(
        "quire is serving http://{host}/ (admin: http://{host}/admin/)"
    ));
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
    .context("the server stopped with an error")?;
    (options.log)("quire stopped");
    Ok(())
}
