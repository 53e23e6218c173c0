//! The HTML authoring UI under `/admin`: server-rendered Tera pages that
//! work without JavaScript. `admin.js` adds a live Markdown preview beside
//! the editor and drag-and-drop uploads, both through the JSON API.
//!
//! Every form carries the session's CSRF token in a hidden field. The
//! handlers share their logic with the JSON API (`posts::update_post` and
//! friends), so the rules (ownership, revisions, validation) are the same.

use std::collections::HashMap;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Form, Multipart, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};
use tera::{Context, Tera};
use tower_sessions::Session;

use super::auth::{self, LoginFailure, may_change};
use super::error::{ApiError, blocking};
use super::extract::ClientIp;
use super::posts::{self, PostRequest};
use super::session::{self, CurrentUser, establish};
use super::state::AppState;
use super::users;
use crate::accounts::Role;
use crate::store::document::FieldError;
use crate::store::listing::Paged;
use crate::store::posts::StoredPost;

mod history;
mod two_factor;

const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("admin_templates/base.html")),
    ("login.html", include_str!("admin_templates/login.html")),
    (
        "register.html",
        include_str!("admin_templates/register.html"),
    ),
    ("reset.html", include_str!("admin_templates/reset.html")),
    (
        "dashboard.html",
        include_str!("admin_templates/dashboard.html"),
    ),
    ("editor.html", include_str!("admin_templates/editor.html")),
    (
        "conflict.html",
        include_str!("admin_templates/conflict.html"),
    ),
    ("media.html", include_str!("admin_templates/media.html")),
    ("profile.html", include_str!("admin_templates/profile.html")),
    ("users.html", include_str!("admin_templates/users.html")),
    (
        "settings.html",
        include_str!("admin_templates/settings.html"),
    ),
    ("message.html", include_str!("admin_templates/message.html")),
    ("history.html", include_str!("admin_templates/history.html")),
    ("pager.html", include_str!("admin_templates/pager.html")),
    ("audit.html", include_str!("admin_templates/audit.html")),
    (
        "login_code.html",
        include_str!("admin_templates/login_code.html"),
    ),
];

const CSS: &str = include_str!("admin_static/admin.css");
const JS: &str = include_str!("admin_static/admin.js");

/// The compiled admin templates (part of the binary, not of the theme).
pub struct Templates(Tera);

impl Templates {
    /// Compiles the embedded templates; a broken one is a bug caught by tests.
    pub fn new() -> Self {
        let mut tera = Tera::new();
        tera.add_raw_templates(TEMPLATES.iter().copied())
            .expect("the embedded admin templates are valid");
        Self(tera)
    }
}

impl Default for Templates {
    fn default() -> Self {
        Self::new()
    }
}

/// The `/admin` routes.
pub fn routes(upload_limit: usize) -> Router<AppState> {
    let uploads = Router::new()
        .route("/media", post(upload_media))
        .route("/profile/avatar", post(upload_avatar))
        .layer(DefaultBodyLimit::max(upload_limit));
    Router::new()
        .route("/login", get(login_page).post(login_submit))
        .route("/login/code", post(two_factor::code_submit))
        .route("/profile/totp", post(two_factor::setup_submit))
        .route("/profile/totp/confirm", post(two_factor::confirm_submit))
        .route("/profile/totp/off", post(two_factor::off_submit))
        .route("/logout", post(logout))
        .route("/register", get(register_page).post(register_submit))
        .route("/reset", get(reset_page).post(reset_submit))
        .route("/posts/new", get(new_post_page))
        .route("/posts", post(create_post))
        .route("/posts/{slug}/edit", get(edit_post_page))
        .route("/posts/{slug}", post(save_post))
        .route("/posts/{slug}/delete", post(delete_post))
        .route("/posts/{slug}/history", get(history::page))
        .route("/posts/{slug}/restore", post(history::restore))
        .route("/audit", get(history::audit))
        .route("/media", get(media_page))
        .route("/media/delete", post(delete_media))
        .route("/profile", get(profile_page).post(save_profile))
        .route("/profile/password", post(change_password))
        .route("/users", get(users_page).post(create_user))
        .route("/users/{name}", post(change_user))
        .route("/settings", get(settings_page).post(save_settings))
        .route("/render", post(render_markdown))
        .route("/originals/{*path}", get(original))
        .route("/static/admin.css", get(css))
        .route("/static/admin.js", get(js))
        .merge(uploads)
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(super::extract::JSON_LIMIT))
}

/// One page: template, status and context.
struct Page {
    template: &'static str,
    status: StatusCode,
    context: Context,
}

impl Page {
    fn new(template: &'static str, title: &str) -> Self {
        let mut context = Context::new();
        context.insert("title", title);
        Self {
            template,
            status: StatusCode::OK,
            context,
        }
    }

    fn with(mut self, key: &'static str, value: impl serde::Serialize) -> Self {
        self.context.insert(key, &value);
        self
    }

    fn status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    /// Renders for `user` (nav, CSRF token) or an anonymous `csrf`.
    fn render(mut self, state: &AppState, user: Option<&CurrentUser>, csrf: &str) -> Response {
        let config = state.config();
        self.context.insert("site_title", &config.title);
        self.context.insert("csrf", csrf);
        self.context
            .insert("registration", &config.server.allow_registration);
        if let Some(user) = user {
            self.context.insert(
                "user",
                &json!({ "username": user.username, "role": user.role, "is_admin": user.is_admin() }),
            );
        }
        match state.ui().0.render(self.template, &self.context) {
            Ok(html) => (self.status, Html(html)).into_response(),
            Err(err) => {
                let error =
                    ApiError::internal(format!("admin template {}: {err:?}", self.template));
                let mut response = (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    Html("<!doctype html><title>Error</title><p>Something went wrong on the server; nothing was changed.".to_string()),
                )
                    .into_response();
                if let Some(cause) = error.internal {
                    response
                        .extensions_mut()
                        .insert(super::error::InternalCause(cause));
                }
                response
            }
        }
    }
}

/// Links to the first, previous, next and last pages of a list shown at
/// `path` with the query `params` (kept, so filters survive paging), and
/// where this page stands: what `pager.html` draws.
fn pager<T>(path: &str, params: &impl serde::Serialize, page: &Paged<T>) -> Value {
    let mut fields: Vec<(String, String)> = match json!(params) {
        Value::Object(map) => map
            .into_iter()
            .filter(|(key, _)| key != "page")
            .filter_map(|(key, value)| Some((key, value.as_str()?.trim().to_string())))
            .filter(|(_, value)| !value.is_empty())
            .collect(),
        _ => Vec::new(),
    };
    fields.sort();
    let link = |number: usize| -> Option<String> {
        (number >= 1 && number <= page.pages && number != page.page).then(|| {
            let mut fields = fields.clone();
            if number > 1 {
                fields.push(("page".into(), number.to_string()));
            }
            match serde_urlencoded::to_string(&fields) {
                Ok(query) if !query.is_empty() => format!("{path}?{query}"),
                _ => path.to_string(),
            }
        })
    };
    json!({
        "total": page.total,
        "page": page.page,
        "pages": page.pages,
        "first": link(1),
        "previous": link(page.page.saturating_sub(1)),
        "next": link(page.page + 1),
        "last": link(page.pages),
    })
}

/// A message page (errors, confirmations) for a failed action.
fn error_page(
    state: &AppState,
    user: Option<&CurrentUser>,
    csrf: &str,
    err: &ApiError,
) -> Response {
    let mut response = Page::new("message.html", "Something went wrong")
        .with("message", &err.message)
        .status(err.status)
        .render(state, user, csrf);
    if let Some(cause) = &err.internal {
        response
            .extensions_mut()
            .insert(super::error::InternalCause(cause.clone()));
    }
    response
}

fn field_map(fields: &[FieldError]) -> HashMap<String, String> {
    let mut map: HashMap<String, String> = HashMap::new();
    for field in fields {
        map.entry(field.field.clone())
            .and_modify(|m| {
                m.push_str("; ");
                m.push_str(&field.message);
            })
            .or_insert_with(|| field.message.clone());
    }
    map
}

/// Checks the hidden CSRF field of a form against the session.
async fn check_form_csrf(session: &Session, sent: Option<&str>) -> Result<(), ApiError> {
    let stored = session::stored_csrf(session).await?;
    match (stored, sent) {
        (Some(stored), Some(sent)) if crate::accounts::constant_time_eq(sent, &stored) => Ok(()),
        _ => Err(ApiError::forbidden(
            "this form has expired (missing or wrong CSRF token); go back, reload the page and try again",
        )),
    }
}

fn to_login(next: &str) -> Response {
    Redirect::to(&format!(
        "/admin/login?next={}",
        crate::build::images::encode_url_path(next)
    ))
    .into_response()
}

/// A local path to go to after login; anything else becomes `/admin/`.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.starts_with("/\\")
                && n.len() <= 2048
                && n.bytes().all(|b| (0x21..=0x7E).contains(&b) && b != b'\\') =>
        {
            n.to_string()
        }
        _ => "/admin/".into(),
    }
}

async fn css() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], CSS).into_response()
}

async fn js() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        JS,
    )
        .into_response()
}

async fn not_found(State(state): State<AppState>, user: Option<CurrentUser>) -> Response {
    let csrf = user.as_ref().map(|u| u.csrf.clone()).unwrap_or_default();
    error_page(
        &state,
        user.as_ref(),
        &csrf,
        &ApiError::not_found("there is no such page in the admin"),
    )
}

// ---- login, logout, registration, reset -------------------------------

#[derive(Debug, Deserialize)]
struct NextQuery {
    next: Option<String>,
}

async fn login_page(
    State(state): State<AppState>,
    user: Option<CurrentUser>,
    session: Session,
    Query(query): Query<NextQuery>,
) -> Result<Response, ApiError> {
    if user.is_some() {
        return Ok(Redirect::to(&safe_next(query.next.as_deref())).into_response());
    }
    let csrf = session::csrf_token(&session).await?;
    Ok(Page::new("login.html", "Log in")
        .with("next", safe_next(query.next.as_deref()))
        .render(&state, None, &csrf))
}

#[derive(Debug, Deserialize)]
struct LoginForm {
    username: String,
    password: String,
    csrf_token: Option<String>,
    next: Option<String>,
    #[serde(flatten)]
    resume: HashMap<String, String>,
}

async fn login_submit(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    session: Session,
    Form(form): Form<LoginForm>,
) -> Result<Response, ApiError> {
    let csrf = session::csrf_token(&session).await?;
    if let Err(err) = check_form_csrf(&session, form.csrf_token.as_deref()).await {
        return Ok(login_again(&state, &csrf, &form, &err.message, err.status));
    }
    match auth::check_login(&state, ip, &form.username, &form.password).await? {
        Ok(user) if user.totp => {
            // The password was right; the session logs in after the code.
            let csrf = session::begin_second_step(&session, &user).await?;
            state.log(&format!(
                "password accepted for {}; waiting for the code",
                user.username
            ));
            Ok(two_factor::code_page(
                &state,
                &csrf,
                form.next.as_deref(),
                &form.resume,
                None,
                StatusCode::OK,
            ))
        }
        Ok(user) => {
            let csrf = establish(&session, &user).await?;
            state.log(&format!("login {}", user.username));
            Ok(after_login(
                &state,
                &session,
                &user,
                csrf,
                form.next.as_deref(),
                &form.resume,
            )
            .await)
        }
        Err(LoginFailure::Throttled(wait)) => {
            let message = format!("Too many failed logins. Try again in {wait} seconds.");
            let mut response = login_again(
                &state,
                &csrf,
                &form,
                &message,
                StatusCode::TOO_MANY_REQUESTS,
            );
            if let Ok(value) = wait.to_string().parse() {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            Ok(response)
        }
        Err(LoginFailure::Rejected) => Ok(login_again(
            &state,
            &csrf,
            &form,
            "The username or password is wrong.",
            StatusCode::UNAUTHORIZED,
        )),
    }
}

/// Where a completed login goes: back to the editor with the unsaved text
/// it carried, or to `next`.
async fn after_login(
    state: &AppState,
    session: &Session,
    user: &crate::accounts::UserInfo,
    csrf: String,
    next: Option<&str>,
    resume: &HashMap<String, String>,
) -> Response {
    if let Some(resume) = resume_fields(resume) {
        // A save met an expired session: show the editor again with the
        // author's text, ready to save.
        let current = CurrentUser {
            username: user.username.clone(),
            role: user.role,
            csrf,
            session: session.clone(),
            needs_totp_setup: false,
        };
        return editor_with(
            state,
            &current,
            &resume,
            Vec::new(),
            Some("You are logged in again. Your text is below, not yet saved: check it and save."),
        )
        .await;
    }
    Redirect::to(&safe_next(next)).into_response()
}

fn login_again(
    state: &AppState,
    csrf: &str,
    form: &LoginForm,
    message: &str,
    status: StatusCode,
) -> Response {
    Page::new("login.html", "Log in")
        .with("error", message)
        .with("username", &form.username)
        .with("next", safe_next(form.next.as_deref()))
        .with("resume", &form.resume)
        .status(status)
        .render(state, None, csrf)
}

/// The unsaved editor fields carried through a login (`resume_*`).
fn resume_fields(fields: &HashMap<String, String>) -> Option<EditorForm> {
    let get = |k: &str| fields.get(&format!("resume_{k}")).cloned();
    get("body").map(|body| EditorForm {
        title: get("title").unwrap_or_default(),
        body,
        tags: get("tags").unwrap_or_default(),
        summary: get("summary").unwrap_or_default(),
        cover: get("cover").unwrap_or_default(),
        date: get("date").unwrap_or_default(),
        draft: get("draft"),
        revision: get("revision").filter(|r| !r.is_empty()),
        // Only a real slug: the editor's form action is built from it.
        slug: get("slug").filter(|s| crate::build::page::Slug::parse(s).is_some()),
        csrf_token: None,
    })
}

#[derive(Debug, Deserialize)]
struct CsrfForm {
    csrf_token: Option<String>,
}

async fn logout(
    State(state): State<AppState>,
    session: Session,
    user: Option<CurrentUser>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, ApiError> {
    let csrf = session::csrf_token(&session).await?;
    if let Err(err) = check_form_csrf(&session, form.csrf_token.as_deref()).await {
        return Ok(error_page(&state, user.as_ref(), &csrf, &err));
    }
    session.flush().await?;
    Ok(Redirect::to("/admin/login").into_response())
}

async fn register_page(
    State(state): State<AppState>,
    session: Session,
) -> Result<Response, ApiError> {
    let csrf = session::csrf_token(&session).await?;
    if !state.config().server.allow_registration {
        return Ok(error_page(
            &state,
            None,
            &csrf,
            &ApiError::not_found("registration is not open on this site"),
        ));
    }
    Ok(Page::new("register.html", "Create an account").render(&state, None, &csrf))
}

#[derive(Debug, Deserialize)]
struct RegisterForm {
    username: String,
    password: String,
    csrf_token: Option<String>,
}

async fn register_submit(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    session: Session,
    Form(form): Form<RegisterForm>,
) -> Result<Response, ApiError> {
    let csrf = session::csrf_token(&session).await?;
    if let Err(err) = check_form_csrf(&session, form.csrf_token.as_deref()).await {
        return Ok(error_page(&state, None, &csrf, &err));
    }
    let registration = auth::Registration {
        username: form.username.clone(),
        password: form.password,
    };
    match auth::register_user(&state, ip, registration).await {
        Ok(user) => {
            establish(&session, &user).await?;
            Ok(Redirect::to("/admin/").into_response())
        }
        Err(err) if err.status == StatusCode::NOT_FOUND => {
            Ok(error_page(&state, None, &csrf, &err))
        }
        Err(err) if err.status.is_client_error() => {
            Ok(Page::new("register.html", "Create an account")
                .with("username", &form.username)
                .with("errors", field_map(&err.fields))
                .with(
                    "error",
                    if err.fields.is_empty() {
                        err.message.clone()
                    } else {
                        String::new()
                    },
                )
                .status(err.status)
                .render(&state, None, &csrf))
        }
        Err(err) => Err(err),
    }
}

#[derive(Debug, Deserialize)]
struct TokenQuery {
    token: Option<String>,
}

async fn reset_page(
    State(state): State<AppState>,
    session: Session,
    Query(query): Query<TokenQuery>,
) -> Result<Response, ApiError> {
    let csrf = session::csrf_token(&session).await?;
    Ok(Page::new("reset.html", "Choose a new password")
        .with("token", query.token.unwrap_or_default())
        .render(&state, None, &csrf))
}

#[derive(Debug, Deserialize)]
struct ResetForm {
    token: String,
    password: String,
    password_again: String,
    csrf_token: Option<String>,
}

async fn reset_submit(
    State(state): State<AppState>,
    session: Session,
    Form(form): Form<ResetForm>,
) -> Result<Response, ApiError> {
    let csrf = session::csrf_token(&session).await?;
    if let Err(err) = check_form_csrf(&session, form.csrf_token.as_deref()).await {
        return Ok(error_page(&state, None, &csrf, &err));
    }
    let again = |message: &str, status| {
        Page::new("reset.html", "Choose a new password")
            .with("token", &form.token)
            .with("errors", HashMap::from([("password", message)]))
            .status(status)
            .render(&state, None, &csrf)
    };
    if form.password != form.password_again {
        return Ok(again(
            "the two passwords differ",
            StatusCode::UNPROCESSABLE_ENTITY,
        ));
    }
    let (token, password) = (form.token.clone(), form.password.clone());
    match state
        .password_work(move |accounts| accounts.redeem_reset(&token, &password))
        .await?
    {
        Ok(username) => {
            super::auth::reset_done(&state, &username).await;
            Ok(Page::new("message.html", "Password changed")
                .with(
                    "message",
                    "Your password is changed. Log in with the new one.",
                )
                .with("link", json!({ "href": "/admin/login", "text": "Log in" }))
                .render(&state, None, &csrf))
        }
        Err(err) => {
            let err = ApiError::from(err);
            Ok(again(&err.message, err.status))
        }
    }
}

// ---- dashboard and editor ----------------------------------------------

/// `GET /admin/?q=&state=&tag=&author=&sort=&order=&page=`.
#[derive(Debug, Default, Deserialize)]
pub struct DashboardQuery {
    #[serde(flatten)]
    list: posts::ListParams,
    deleted: Option<String>,
}

/// `GET /admin/`: one page of the posts the user may see, filtered,
/// sorted and searchable, with their state.
pub async fn dashboard(
    State(state): State<AppState>,
    user: Option<CurrentUser>,
    query: Result<Query<DashboardQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Some(user) = user else {
        return Ok(to_login("/admin/"));
    };
    let Query(query) = query.unwrap_or_default();
    let params = query.list;
    let (page, error) = match params.query() {
        Ok(list) => (posts::list_page(&state, &user, list).await?, None),
        Err(err) => {
            let fallback = posts::list_page(&state, &user, Default::default()).await?;
            (fallback, Some(err.to_string()))
        }
    };
    let now = chrono::Utc::now();
    let rows: Vec<Value> = page
        .items
        .iter()
        .map(|listed| {
            let p = &listed.post;
            json!({
                "slug": p.slug,
                "title": p.title,
                "date": p.date.as_deref().map(|d| d.get(..10).unwrap_or(d)),
                "state": listed.state(now).as_str(),
                "author": p.author,
                "editable": may_change(&user, &p.authors),
                "problem": p.problem,
            })
        })
        .collect();
    let pager = pager("/admin/", &params, &page);
    let filtered = [&params.q, &params.state, &params.tag, &params.author]
        .iter()
        .any(|v| v.as_deref().is_some_and(|v| !v.trim().is_empty()));
    let st = state.clone();
    let authors: Vec<String> = blocking(move || st.accounts().list())
        .await??
        .into_iter()
        .map(|account| account.username)
        .collect();
    let status = state.preview().status();
    let code = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    Ok(Page::new("dashboard.html", "Posts")
        .with(
            "notice",
            query
                .deleted
                .is_some()
                .then_some("Post deleted. It is kept in .quire/trash/posts/."),
        )
        .with("posts", rows)
        .with("filter", &params)
        .with("filtered", filtered)
        .with("filter_error", error)
        .with("authors", authors)
        .with("pager", pager)
        .with("build", &*status)
        .status(code)
        .render(&state, Some(&user), &user.csrf))
}

/// The editor form as submitted (and as shown).
#[derive(Debug, Default, Clone, Deserialize, serde::Serialize)]
struct EditorForm {
    #[serde(default)]
    title: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    tags: String,
    #[serde(default)]
    summary: String,
    #[serde(default)]
    cover: String,
    #[serde(default)]
    date: String,
    draft: Option<String>,
    revision: Option<String>,
    slug: Option<String>,
    csrf_token: Option<String>,
}

impl EditorForm {
    fn from_post(post: &StoredPost) -> Self {
        Self {
            title: post.title.clone(),
            body: post.body.clone(),
            tags: post.tags.join(", "),
            summary: post.summary.clone().unwrap_or_default(),
            cover: post.cover.clone().unwrap_or_default(),
            date: post.date.clone().unwrap_or_default(),
            draft: post.draft.then(|| "on".into()),
            revision: Some(post.revision.clone()),
            slug: Some(post.slug.clone()),
            csrf_token: None,
        }
    }

    fn request(&self) -> PostRequest {
        let optional = |s: &str| Some(s.trim().to_string());
        PostRequest {
            title: Some(self.title.clone()),
            body: Some(self.body.clone()),
            tags: Some(
                self.tags
                    .split(',')
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .map(String::from)
                    .collect(),
            ),
            summary: optional(&self.summary),
            draft: Some(self.draft.is_some()),
            date: optional(&self.date),
            slug: None,
            cover: optional(&self.cover),
            author: None,
        }
    }
}

async fn cover_choices(state: &AppState) -> Vec<Value> {
    let st = state.clone();
    blocking(move || st.media().list())
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|m| m.width.is_some())
        .map(|m| json!({ "path": m.path, "url": m.url }))
        .collect()
}

async fn editor_with(
    state: &AppState,
    user: &CurrentUser,
    form: &EditorForm,
    errors: Vec<FieldError>,
    notice: Option<&str>,
) -> Response {
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let title = if form.slug.is_some() {
        "Edit post"
    } else {
        "New post"
    };
    Page::new("editor.html", title)
        .with("post", form)
        .with("errors", field_map(&errors))
        .with("error_list", &errors)
        .with("notice", notice)
        .with("covers", cover_choices(state).await)
        .with("build", &*state.preview().status())
        .status(status)
        .render(state, Some(user), &user.csrf)
}

async fn new_post_page(State(state): State<AppState>, user: Option<CurrentUser>) -> Response {
    let Some(user) = user else {
        return to_login("/admin/posts/new");
    };
    let form = EditorForm {
        draft: Some("on".into()),
        ..EditorForm::default()
    };
    editor_with(&state, &user, &form, Vec::new(), None).await
}

async fn edit_post_page(
    State(state): State<AppState>,
    user: Option<CurrentUser>,
    Path(slug): Path<String>,
    Query(notice): Query<NoticeQuery>,
) -> Response {
    let Some(user) = user else {
        return to_login(&format!("/admin/posts/{slug}/edit"));
    };
    let post = match posts::load_visible(&state, &user, slug).await {
        Ok(post) => post,
        Err(err) => return error_page(&state, Some(&user), &user.csrf, &err),
    };
    if !may_change(&user, &post.authors) {
        let err = ApiError::forbidden(
            "this post belongs to another author; only they or an admin may edit it",
        );
        return error_page(&state, Some(&user), &user.csrf, &err);
    }
    let saved = notice.saved.is_some().then(|| {
        let build = state.preview().status();
        if build.ok {
            "Saved. The preview is up to date."
        } else {
            "Saved, but the preview build has errors; the preview shows the last good version."
        }
    });
    editor_with(
        &state,
        &user,
        &EditorForm::from_post(&post),
        Vec::new(),
        saved,
    )
    .await
}

/// Confirmation flags carried by redirects after a successful form post.
#[derive(Debug, Default, Deserialize)]
pub struct NoticeQuery {
    saved: Option<String>,
}

/// A save that met an expired session: keep the text, ask for a login.
async fn session_expired_on_save(
    state: &AppState,
    session: &Session,
    form: &EditorForm,
) -> Result<Response, ApiError> {
    let csrf = session::csrf_token(session).await?;
    let mut resume = HashMap::new();
    for (key, value) in [
        ("title", &form.title),
        ("body", &form.body),
        ("tags", &form.tags),
        ("summary", &form.summary),
        ("cover", &form.cover),
        ("date", &form.date),
    ] {
        resume.insert(format!("resume_{key}"), value.clone());
    }
    if form.draft.is_some() {
        resume.insert("resume_draft".into(), "on".into());
    }
    resume.insert(
        "resume_revision".into(),
        form.revision.clone().unwrap_or_default(),
    );
    resume.insert("resume_slug".into(), form.slug.clone().unwrap_or_default());
    Ok(Page::new("login.html", "Log in again")
        .with("error", "Your session ended before the post was saved. Your text is kept on this page: log in and it comes back in the editor.")
        .with("resume", resume)
        .with("unsaved", &form.body)
        .with("next", "/admin/")
        .status(StatusCode::UNAUTHORIZED)
        .render(state, None, &csrf))
}

async fn create_post(
    State(state): State<AppState>,
    user: Option<CurrentUser>,
    session: Session,
    Form(form): Form<EditorForm>,
) -> Result<Response, ApiError> {
    let Some(user) = user else {
        return session_expired_on_save(&state, &session, &form).await;
    };
    if let Err(err) = check_form_csrf(&session, form.csrf_token.as_deref()).await {
        return Ok(editor_with(&state, &user, &form, Vec::new(), Some(&err.message)).await);
    }
    match posts::create_post(&state, &user, form.request()).await {
        Ok(post) => {
            state
                .preview()
                .rebuild_for(posts::post_file(&post.slug))
                .await;
            Ok(Redirect::to(&format!("/admin/posts/{}/edit?saved=1", post.slug)).into_response())
        }
        Err(err) if err.status.is_client_error() => {
            Ok(editor_with(&state, &user, &form, error_fields(&err), None).await)
        }
        Err(err) => Err(err),
    }
}

fn error_fields(err: &ApiError) -> Vec<FieldError> {
    if err.fields.is_empty() {
        vec![FieldError::new("form", err.message.clone())]
    } else {
        err.fields.clone()
    }
}

async fn save_post(
    State(state): State<AppState>,
    user: Option<CurrentUser>,
    session: Session,
    Path(slug): Path<String>,
    Form(mut form): Form<EditorForm>,
) -> Result<Response, ApiError> {
    if crate::build::page::Slug::parse(&slug).is_none() {
        let err = ApiError::not_found(format!("there is no post `{}`", slug.escape_default()));
        let csrf = session::csrf_token(&session).await?;
        return Ok(error_page(&state, user.as_ref(), &csrf, &err));
    }
    form.slug = Some(slug.clone());
    let Some(user) = user else {
        return session_expired_on_save(&state, &session, &form).await;
    };
    if let Err(err) = check_form_csrf(&session, form.csrf_token.as_deref()).await {
        return Ok(editor_with(&state, &user, &form, Vec::new(), Some(&err.message)).await);
    }
    let expected = form.revision.clone().unwrap_or_default();
    match posts::update_post(&state, &user, slug.clone(), expected, form.request()).await {
        Ok(post) => {
            state
                .preview()
                .rebuild_for(posts::post_file(&post.slug))
                .await;
            Ok(Redirect::to(&format!("/admin/posts/{}/edit?saved=1", post.slug)).into_response())
        }
        Err(err) if err.status == StatusCode::PRECONDITION_FAILED => {
            let current: Option<StoredPost> = err
                .details
                .as_ref()
                .and_then(|d| serde_json::from_value(d["current"].clone()).ok());
            let current = current.map(|c| EditorForm::from_post(&c));
            let mut mine = form.clone();
            mine.revision = current.as_ref().and_then(|c| c.revision.clone());
            Ok(Page::new("conflict.html", "Someone else changed this post")
                .with("mine", &mine)
                .with("current", &current)
                .status(StatusCode::CONFLICT)
                .render(&state, Some(&user), &user.csrf))
        }
        Err(err) if err.status == StatusCode::FORBIDDEN || err.status == StatusCode::NOT_FOUND => {
            Ok(error_page(&state, Some(&user), &user.csrf, &err))
        }
        Err(err) if err.status.is_client_error() => {
            Ok(editor_with(&state, &user, &form, error_fields(&err), None).await)
        }
        Err(err) => Err(err),
    }
}

async fn delete_post(
    State(state): State<AppState>,
    user: Option<CurrentUser>,
    session: Session,
    Path(slug): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, ApiError> {
    let Some(user) = user else {
        return Ok(to_login("/admin/"));
    };
    let result = match check_form_csrf(&session, form.csrf_token.as_deref()).await {
        Ok(()) => posts::delete_post(&state, &user, slug.clone(), None).await,
        Err(err) => Err(err),
    };
    match result {
        Ok(()) => {
            state.preview().rebuild_for(posts::post_file(&slug)).await;
            Ok(Redirect::to("/admin/?deleted=1").into_response())
        }
        Err(err) => Ok(error_page(&state, Some(&user), &user.csrf, &err)),
    }
}

#[derive(Debug, Deserialize)]
struct RenderForm {
    body: String,
}

/// The live preview of the editor: Markdown to sanitised HTML (always
/// sanitised here, whatever `raw_html` says, since it lands in the admin).
async fn render_markdown(
    State(state): State<AppState>,
    _user: CurrentUser,
    session: Session,
    headers: axum::http::HeaderMap,
    Form(form): Form<RenderForm>,
) -> Result<Response, ApiError> {
    let sent = headers.get("x-csrf-token").and_then(|v| v.to_str().ok());
    check_form_csrf(&session, sent).await?;
    let smart = state.config().markdown.smart_punctuation;
    let html = blocking(move || {
        let options = crate::build::parse::markdown::MarkdownOptions {
            raw_html: crate::config::RawHtml::Sanitize,
            smart_punctuation: smart,
            base_path: "/",
            media: None,
        };
        crate::build::parse::markdown::render(
            &form.body,
            1,
            &options,
            crate::build::parse::markdown::Summary::Given,
        )
        .html
        // Originals are not published; the admin serves them to its users.
        .replace("src=\"/media/", "src=\"/admin/originals/")
    })
    .await?;
    Ok(([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response())
}

// ---- media -------------------------------------------------------------

/// `GET /admin/originals/{path}`: an original image from media/, for the
/// media library and the editor's preview (the public site only has the
/// resized variants). Only raster images are served, typed by their bytes.
async fn original(
    State(state): State<AppState>,
    _user: CurrentUser,
    Path(path): Path<String>,
) -> Result<Response, ApiError> {
    let st = state.clone();
    let bytes = blocking(move || -> Result<Vec<u8>, ApiError> {
        let rel = st.media().resolve(&path)?;
        std::fs::read(st.config().media_dir().join(rel)).map_err(ApiError::internal)
    })
    .await??;
    let Some(format) = crate::build::images::source::sniff(&bytes) else {
        return Err(ApiError::not_found("only images are shown here"));
    };
    let mime = format.image_format().to_mime_type();
    Ok(([(header::CONTENT_TYPE, mime)], bytes).into_response())
}

/// `GET /admin/media?q=&sort=&order=&page=` (and `uploaded=` after an upload).
#[derive(Debug, Default, Deserialize)]
struct MediaPageQuery {
    #[serde(flatten)]
    list: super::media::MediaListParams,
    uploaded: Option<String>,
}

async fn media_page(
    State(state): State<AppState>,
    user: Option<CurrentUser>,
    query: Result<Query<MediaPageQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(notice) = query.unwrap_or_default();
    let Some(user) = user else {
        return Ok(to_login("/admin/media"));
    };
    // Only a path that exists in media/ is echoed back.
    let st = state.clone();
    let uploaded = match notice.uploaded {
        Some(path) => blocking(move || st.media().resolve(&path).ok()).await?,
        None => None,
    };
    media_listing(&state, &user, None, uploaded.as_deref(), &notice.list).await
}

async fn media_with(
    state: &AppState,
    user: &CurrentUser,
    error: Option<&ApiError>,
    uploaded: Option<&str>,
) -> Result<Response, ApiError> {
    media_listing(state, user, error, uploaded, &Default::default()).await
}

/// The media page: the upload form and one page of the library.
async fn media_listing(
    state: &AppState,
    user: &CurrentUser,
    error: Option<&ApiError>,
    uploaded: Option<&str>,
    params: &super::media::MediaListParams,
) -> Result<Response, ApiError> {
    let (query, query_error) = match params.query() {
        Ok(query) => (query, None),
        Err(err) => (Default::default(), Some(ApiError::from(err))),
    };
    let error = error.or(query_error.as_ref());
    let page = super::media::list_page(state, query).await?;
    let pager = pager("/admin/media", params, &page);
    let items: Vec<Value> = page
        .items
        .into_iter()
        .map(|item| {
            let deletable = may_change(user, item.uploader.as_slice());
            let mut value = json!(item);
            value["deletable"] = json!(deletable);
            value["kib"] = json!(item.bytes.div_ceil(1024));
            value["original"] = json!(item.url.replacen("/media/", "/admin/originals/", 1));
            value
        })
        .collect();
    let status = error.map_or(StatusCode::OK, |e| e.status);
    Ok(Page::new("media.html", "Media")
        .with("items", items)
        .with("pager", pager)
        .with("filter", params)
        .with("error", error.map(|e| e.message.clone()))
        .with("uploaded", uploaded)
        .with("limit_mib", state.media().max_upload() / (1024 * 1024))
        .status(status)
        .render(state, Some(user), &user.csrf))
}

/// Reads a multipart form and checks its CSRF field.
async fn checked_upload(
    state: &AppState,
    session: &Session,
    multipart: Multipart,
) -> Result<super::media::UploadForm, ApiError> {
    let form = super::media::read_form(multipart, state.media().max_upload()).await?;
    check_form_csrf(session, form.fields.get("csrf_token").map(String::as_str)).await?;
    Ok(form)
}

async fn upload_media(
    State(state): State<AppState>,
    user: Option<CurrentUser>,
    session: Session,
    multipart: Multipart,
) -> Result<Response, ApiError> {
    let Some(user) = user else {
        return Ok(to_login("/admin/media"));
    };
    let result = match checked_upload(&state, &session, multipart).await {
        Ok(form) => super::media::store_upload(&state, &user, form).await,
        Err(err) => Err(err),
    };
    match result {
        Ok(stored) => {
            state
                .preview()
                .rebuild_for(super::media::media_file(&stored.path))
                .await;
            // Post/redirect/get: reloading the page does not upload again.
            let target = format!(
                "/admin/media?uploaded={}",
                crate::build::images::encode_url_path(&stored.path)
            );
            Ok(Redirect::to(&target).into_response())
        }
        Err(err) => media_with(&state, &user, Some(&err), None).await,
    }
}

#[derive(Debug, Deserialize)]
struct PathForm {
    path: String,
    csrf_token: Option<String>,
}

async fn delete_media(
    State(state): State<AppState>,
    user: Option<CurrentUser>,
    session: Session,
    Form(form): Form<PathForm>,
) -> Result<Response, ApiError> {
    let Some(user) = user else {
        return Ok(to_login("/admin/media"));
    };
    let result = match check_form_csrf(&session, form.csrf_token.as_deref()).await {
        Ok(()) => super::media::delete_media(&state, &user, form.path).await,
        Err(err) => Err(err),
    };
    match result {
        Ok(deleted) => {
            state
                .preview()
                .rebuild_for(super::media::media_file(&deleted))
                .await;
            Ok(Redirect::to("/admin/media").into_response())
        }
        Err(err) => media_with(&state, &user, Some(&err), None).await,
    }
}

// ---- profile -----------------------------------------------------------

async fn profile_page(
    State(state): State<AppState>,
    user: Option<CurrentUser>,
) -> Result<Response, ApiError> {
    let Some(user) = user else {
        return Ok(to_login("/admin/profile"));
    };
    profile_with(&state, &user, Vec::new(), None, None).await
}

async fn profile_with(
    state: &AppState,
    user: &CurrentUser,
    errors: Vec<FieldError>,
    notice: Option<&str>,
    edited: Option<&ProfileForm>,
) -> Result<Response, ApiError> {
    let two_factor = two_factor::View::of(state, user).await?;
    profile_full(state, user, errors, notice, edited, two_factor).await
}

/// The profile page with its two-factor section in a given state.
async fn profile_full(
    state: &AppState,
    user: &CurrentUser,
    errors: Vec<FieldError>,
    notice: Option<&str>,
    edited: Option<&ProfileForm>,
    two_factor: two_factor::View,
) -> Result<Response, ApiError> {
    let mut profile = json!(users::own_profile(state, user).await?);
    if let Some(edited) = edited {
        profile["display_name"] = json!(edited.display_name);
        profile["bio"] = json!(edited.bio);
    }
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok(Page::new("profile.html", "Your profile")
        .with("profile", profile)
        .with("two_factor", two_factor)
        .with("errors", field_map(&errors))
        .with("notice", notice)
        .status(status)
        .render(state, Some(user), &user.csrf))
}

#[derive(Debug, Deserialize)]
struct ProfileForm {
    display_name: String,
    bio: String,
    csrf_token: Option<String>,
}

async fn save_profile(
    State(state): State<AppState>,
    user: Option<CurrentUser>,
    session: Session,
    Form(form): Form<ProfileForm>,
) -> Result<Response, ApiError> {
    let Some(user) = user else {
        return Ok(to_login("/admin/profile"));
    };
    if let Err(err) = check_form_csrf(&session, form.csrf_token.as_deref()).await {
        return profile_with(&state, &user, error_fields(&err), None, Some(&form)).await;
    }
    let request = users::ProfileRequest {
        display_name: Some(form.display_name.clone()),
        bio: Some(form.bio.clone()),
    };
    match users::save_profile(&state, &user, request).await {
        Ok(_) => profile_with(&state, &user, Vec::new(), Some("Profile saved."), None).await,
        Err(err) if err.status.is_client_error() => {
            profile_with(&state, &user, error_fields(&err), None, Some(&form)).await
        }
        Err(err) => Err(err),
    }
}

async fn upload_avatar(
    State(state): State<AppState>,
    user: Option<CurrentUser>,
    session: Session,
    multipart: Multipart,
) -> Result<Response, ApiError> {
    let Some(user) = user else {
        return Ok(to_login("/admin/profile"));
    };
    let result = match checked_upload(&state, &session, multipart).await {
        Ok(form) => super::media::store_avatar(&state, &user, form).await,
        Err(err) => Err(err),
    };
    match result {
        Ok(stored) => {
            state
                .preview()
                .rebuild_for(super::media::avatar_files(&state, &user, &stored))
                .await;
            profile_with(&state, &user, Vec::new(), Some("Picture saved."), None).await
        }
        Err(err) if err.status.is_client_error() => {
            profile_with(
                &state,
                &user,
                vec![FieldError::new("avatar", err.message.clone())],
                None,
                None,
            )
            .await
        }
        Err(err) => Err(err),
    }
}

#[derive(Debug, Deserialize)]
struct PasswordForm {
    current_password: String,
    new_password: String,
    new_password_again: String,
    csrf_token: Option<String>,
}

async fn change_password(
    State(state): State<AppState>,
    user: Option<CurrentUser>,
    ClientIp(ip): ClientIp,
    session: Session,
    Form(form): Form<PasswordForm>,
) -> Result<Response, ApiError> {
    let Some(user) = user else {
        return Ok(to_login("/admin/profile"));
    };
    if let Err(err) = check_form_csrf(&session, form.csrf_token.as_deref()).await {
        return profile_with(&state, &user, error_fields(&err), None, None).await;
    }
    if form.new_password != form.new_password_again {
        return profile_with(
            &state,
            &user,
            vec![FieldError::new(
                "new_password",
                "the two new passwords differ",
            )],
            None,
            None,
        )
        .await;
    }
    let request = users::PasswordRequest {
        current_password: form.current_password,
        new_password: form.new_password,
    };
    match users::change_password(&state, &user, ip, request).await {
        Ok(()) => {
            // The session was renewed with a new CSRF token.
            let csrf = session::csrf_token(&session).await?;
            let renewed = CurrentUser { csrf, ..user };
            profile_with(
                &state,
                &renewed,
                Vec::new(),
                Some("Password changed. Your other sessions have ended."),
                None,
            )
            .await
        }
        Err(err) if err.status.is_client_error() => {
            let fields = err
                .fields
                .iter()
                .map(|f| {
                    if f.field == "password" {
                        FieldError::new("new_password", f.message.clone())
                    } else {
                        f.clone()
                    }
                })
                .collect();
            profile_with(&state, &user, fields, None, None).await
        }
        Err(err) => Err(err),
    }
}

// ---- users and settings (admins) --------------------------------------

async fn users_page(
    State(state): State<AppState>,
    user: Option<CurrentUser>,
    query: Result<Query<users::UserListParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Some(user) = user else {
        return Ok(to_login("/admin/users"));
    };
    let Query(params) = query.unwrap_or_default();
    users_listing(&state, &user, Vec::new(), None, None, &params).await
}

async fn users_with(
    state: &AppState,
    user: &CurrentUser,
    errors: Vec<FieldError>,
    notice: Option<&str>,
    reset_link: Option<&str>,
) -> Result<Response, ApiError> {
    users_listing(state, user, errors, notice, reset_link, &Default::default()).await
}

/// The users page: one page of accounts and the form for a new one.
async fn users_listing(
    state: &AppState,
    user: &CurrentUser,
    mut errors: Vec<FieldError>,
    notice: Option<&str>,
    reset_link: Option<&str>,
    params: &users::UserListParams,
) -> Result<Response, ApiError> {
    if !user.is_admin() {
        return Ok(error_page(
            state,
            Some(user),
            &user.csrf,
            &ApiError::forbidden("only admins may manage users"),
        ));
    }
    let query = match params.query() {
        Ok(query) => query,
        Err(err) => {
            errors.push(FieldError::new("form", err.to_string()));
            Default::default()
        }
    };
    let page = users::list_page(state, user, query).await?;
    let pager = pager("/admin/users", params, &page);
    let rows: Vec<Value> = page
        .items
        .iter()
        .map(|u| auth::user_json(state, u))
        .collect();
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok(Page::new("users.html", "Users")
        .with("users", rows)
        .with("pager", pager)
        .with("filter", params)
        .with("errors", field_map(&errors))
        .with("notice", notice)
        .with("reset_link", reset_link)
        .status(status)
        .render(state, Some(user), &user.csrf))
}

#[derive(Debug, Deserialize)]
struct NewUserForm {
    username: String,
    role: String,
    password: String,
    csrf_token: Option<String>,
}

async fn create_user(
    State(state): State<AppState>,
    user: Option<CurrentUser>,
    session: Session,
    Form(form): Form<NewUserForm>,
) -> Result<Response, ApiError> {
    let Some(user) = user else {
        return Ok(to_login("/admin/users"));
    };
    let result = async {
        check_form_csrf(&session, form.csrf_token.as_deref()).await?;
        let role: Role = form.role.parse()?;
        users::create_user(
            &state,
            &user,
            users::NewUser {
                username: form.username.clone(),
                role,
                password: form.password.clone(),
            },
        )
        .await
    }
    .await;
    match result {
        Ok(()) => {
            users_with(
                &state,
                &user,
                Vec::new(),
                Some(&format!("Created {}.", form.username)),
                None,
            )
            .await
        }
        Err(err) if err.status == StatusCode::FORBIDDEN => {
            Ok(error_page(&state, Some(&user), &user.csrf, &err))
        }
        Err(err) if err.status.is_client_error() => {
            users_with(&state, &user, error_fields(&err), None, None).await
        }
        Err(err) => Err(err),
    }
}

#[derive(Debug, Deserialize)]
struct UserActionForm {
    action: String,
    role: Option<String>,
    csrf_token: Option<String>,
}

async fn change_user(
    State(state): State<AppState>,
    user: Option<CurrentUser>,
    session: Session,
    Path(name): Path<String>,
    Form(form): Form<UserActionForm>,
) -> Result<Response, ApiError> {
    let Some(user) = user else {
        return Ok(to_login("/admin/users"));
    };
    let result: Result<(String, Option<String>), ApiError> = async {
        check_form_csrf(&session, form.csrf_token.as_deref()).await?;
        match form.action.as_str() {
            "role" => {
                let role: Role = form.role.as_deref().unwrap_or("").parse()?;
                let patch = users::UserPatch {
                    role: Some(role),
                    ..Default::default()
                };
                users::patch_user(&state, &user, name.clone(), patch).await?;
                Ok((format!("{name} is now {role}."), None))
            }
            "disable" | "enable" => {
                let disabled = form.action == "disable";
                let patch = users::UserPatch {
                    disabled: Some(disabled),
                    ..Default::default()
                };
                users::patch_user(&state, &user, name.clone(), patch).await?;
                Ok((
                    format!(
                        "{name} is {}.",
                        if disabled {
                            "disabled; their sessions have ended"
                        } else {
                            "enabled"
                        }
                    ),
                    None,
                ))
            }
            "remove" => {
                users::remove_user(&state, &user, name.clone()).await?;
                Ok((
                    format!("Removed {name}; their posts and profile are kept."),
                    None,
                ))
            }
            "reset" => {
                if !user.is_admin() {
                    return Err(ApiError::forbidden("only admins may manage users"));
                }
                let st = state.clone();
                let target = name.clone();
                let lifetime = state.config().server.reset_link;
                let token =
                    blocking(move || st.accounts().create_reset(&target, lifetime)).await??;
                let link = format!("{}/admin/reset?token={token}", state.config().server.url);
                state.log(&format!("{} made a reset link for {name}", user.username));
                state
                    .audit(
                        &user.username,
                        "reset link",
                        crate::store::audit::Target::User,
                        &name,
                    )
                    .await;
                Ok((
                    format!("Reset link for {name} (works once; send it privately):"),
                    Some(link),
                ))
            }
            _ => Err(ApiError::bad_request("unknown_action", "unknown action")),
        }
    }
    .await;
    match result {
        Ok((notice, link)) => {
            users_with(&state, &user, Vec::new(), Some(&notice), link.as_deref()).await
        }
        Err(err) if err.status == StatusCode::FORBIDDEN => {
            Ok(error_page(&state, Some(&user), &user.csrf, &err))
        }
        Err(err) if err.status.is_client_error() => {
            users_with(&state, &user, error_fields(&err), None, None).await
        }
        Err(err) => Err(err),
    }
}

async fn settings_page(State(state): State<AppState>, user: Option<CurrentUser>) -> Response {
    let Some(user) = user else {
        return to_login("/admin/settings");
    };
    settings_with(&state, &user, Vec::new(), None, None)
}

fn settings_with(
    state: &AppState,
    user: &CurrentUser,
    errors: Vec<FieldError>,
    notice: Option<&str>,
    edited: Option<&SettingsForm>,
) -> Response {
    if !user.is_admin() {
        return error_page(
            state,
            Some(user),
            &user.csrf,
            &ApiError::forbidden("only admins may change site settings"),
        );
    }
    let current = crate::store::settings::SiteSettings::of(&state.config());
    let values = match edited {
        Some(form) => {
            json!({ "title": form.title, "description": form.description, "posts_per_page": form.posts_per_page })
        }
        None => json!(current),
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Page::new("settings.html", "Site settings")
        .with("settings", values)
        .with("errors", field_map(&errors))
        .with("notice", notice)
        .status(status)
        .render(state, Some(user), &user.csrf)
}

#[derive(Debug, Deserialize)]
struct SettingsForm {
    title: String,
    description: String,
    posts_per_page: String,
    csrf_token: Option<String>,
}

async fn save_settings(
    State(state): State<AppState>,
    user: Option<CurrentUser>,
    session: Session,
    Form(form): Form<SettingsForm>,
) -> Result<Response, ApiError> {
    let Some(user) = user else {
        return Ok(to_login("/admin/settings"));
    };
    if let Err(err) = check_form_csrf(&session, form.csrf_token.as_deref()).await {
        return Ok(settings_with(
            &state,
            &user,
            error_fields(&err),
            None,
            Some(&form),
        ));
    }
    let Ok(posts_per_page) = form.posts_per_page.trim().parse::<usize>() else {
        let errors = vec![FieldError::new(
            "posts_per_page",
            "write a whole number, such as 10",
        )];
        return Ok(settings_with(&state, &user, errors, None, Some(&form)));
    };
    let settings = crate::store::settings::SiteSettings {
        title: form.title.clone(),
        description: form.description.clone(),
        posts_per_page,
    };
    match users::save_settings(&state, &user, settings).await {
        Ok(_) => Ok(settings_with(
            &state,
            &user,
            Vec::new(),
            Some("Settings saved; the preview is rebuilt."),
            None,
        )),
        Err(err) if err.status == StatusCode::FORBIDDEN => {
            Ok(error_page(&state, Some(&user), &user.csrf, &err))
        }
        Err(err) if err.status.is_client_error() => Ok(settings_with(
            &state,
            &user,
            error_fields(&err),
            None,
            Some(&form),
        )),
        Err(err) => Err(err),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_compile_and_escape() {
        let templates = Templates::new();
        let mut context = Context::new();
        context.insert("title", "<script>");
        context.insert("message", "<b>x</b>");
        context.insert("site_title", "Site");
        context.insert("csrf", "token");
        context.insert("registration", &false);
        let html = templates.0.render("message.html", &context).unwrap();
        assert!(
            html.contains("&lt;b&gt;x&lt;&#x2F;b&gt;") || html.contains("&lt;b&gt;x&lt;/b&gt;"),
            "{html}"
        );
        assert!(!html.contains("<script>"));
    }

    #[test]
    fn next_must_be_local() {
        assert_eq!(safe_next(Some("/admin/media")), "/admin/media");
        assert_eq!(safe_next(Some("//evil.example/")), "/admin/");
        assert_eq!(safe_next(Some("https://evil.example/")), "/admin/");
        assert_eq!(safe_next(None), "/admin/");
        assert_eq!(safe_next(Some("/\t/evil.example")), "/admin/");
        assert_eq!(safe_next(Some("/\\evil.example")), "/admin/");
        assert_eq!(safe_next(Some("/a b")), "/admin/");
    }
}
