//! The editor: `/admin/posts/new` and `/admin/posts/{slug}/edit`, saving
//! (with the revision check, and the text kept when the session expired),
//! deleting, and the server-rendered live preview of the Markdown.

use std::collections::HashMap;

use axum::extract::{Form, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use tower_sessions::Session;

use crate::server::error::{ApiError, blocking};
use crate::server::ops::access::may_change;
use crate::server::ops::posts::PostRequest;
use crate::server::session::CurrentUser;
use crate::server::state::AppState;
use crate::server::ui::page::CsrfForm;
use crate::server::ui::page::{
    Page, check_form_csrf, error_fields, error_page, field_map, to_login,
};
use crate::server::{ops, session};
use crate::store::document::FieldError;
use crate::store::posts::StoredPost;

/// The unsaved editor fields carried through a login (`resume_*`).
pub(crate) fn resume_fields(fields: &HashMap<String, String>) -> Option<EditorForm> {
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

/// The editor form as submitted (and as shown).
#[derive(Debug, Default, Clone, Deserialize, serde::Serialize)]
pub(crate) struct EditorForm {
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

/// How many recent images the cover menu offers without JavaScript (the
/// picker reaches the whole library).
const COVER_CHOICES: usize = 100;

/// The cover menu: the newest images, and `current` wherever it is.
async fn cover_choices(state: &AppState, current: Option<&str>) -> Vec<Value> {
    let st = state.clone();
    let current = current.filter(|c| !c.is_empty()).map(String::from);
    blocking(move || {
        let images: Vec<_> = st
            .media()
            .list()
            .into_iter()
            .filter(|m| m.width.is_some())
            .collect();
        let mut choices: Vec<Value> = images
            .iter()
            .take(COVER_CHOICES)
            .map(|m| json!({ "path": m.path }))
            .collect();
        if let Some(current) = current
            && !choices.iter().any(|c| c["path"] == current.as_str())
        {
            choices.insert(0, json!({ "path": current }));
        }
        choices
    })
    .await
    .unwrap_or_default()
}

/// The editor page for `form`, with field errors and a notice.
pub(crate) async fn editor_with(
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
        .with(
            "covers",
            cover_choices(state, Some(form.cover.as_str())).await,
        )
        .with("build", &*state.preview().status())
        .status(status)
        .render(state, Some(user), &user.csrf)
}

/// `GET /admin/posts/new`: an empty editor.
pub(crate) async fn new_post_page(
    State(state): State<AppState>,
    user: Option<CurrentUser>,
) -> Response {
    let Some(user) = user else {
        return to_login("/admin/posts/new");
    };
    let form = EditorForm {
        draft: Some("on".into()),
        ..EditorForm::default()
    };
    editor_with(&state, &user, &form, Vec::new(), None).await
}

/// `GET /admin/posts/{slug}/edit`: the editor on a post the user may change.
pub(crate) async fn edit_post_page(
    State(state): State<AppState>,
    user: Option<CurrentUser>,
    Path(slug): Path<String>,
    Query(notice): Query<NoticeQuery>,
) -> Response {
    let Some(user) = user else {
        return to_login(&format!("/admin/posts/{slug}/edit"));
    };
    let post = match ops::posts::load_visible(&state, &user, slug).await {
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
pub(super) struct NoticeQuery {
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

/// `POST /admin/posts`: creates the post, then shows it in the editor.
pub(crate) async fn create_post(
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
    match ops::posts::create_post(&state, &user, form.request()).await {
        Ok(post) => {
            state
                .preview()
                .rebuild_for(ops::posts::post_file(&post.slug))
                .await;
            Ok(Redirect::to(&format!("/admin/posts/{}/edit?saved=1", post.slug)).into_response())
        }
        Err(err) if err.status.is_client_error() => {
            Ok(editor_with(&state, &user, &form, error_fields(&err), None).await)
        }
        Err(err) => Err(err),
    }
}

/// `POST /admin/posts/{slug}`: saves with the revision check (a stale one shows both versions).
pub(crate) async fn save_post(
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
    match ops::posts::update_post(&state, &user, slug.clone(), expected, form.request()).await {
        Ok(post) => {
            state
                .preview()
                .rebuild_for(ops::posts::post_file(&post.slug))
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

/// `POST /admin/posts/{slug}/delete`: moves the post to the trash.
pub(crate) async fn delete_post(
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
        Ok(()) => ops::posts::delete_post(&state, &user, slug.clone(), None).await,
        Err(err) => Err(err),
    };
    match result {
        Ok(()) => {
            state
                .preview()
                .rebuild_for(ops::posts::post_file(&slug))
                .await;
            Ok(Redirect::to("/admin/?deleted=1").into_response())
        }
        Err(err) => Ok(error_page(&state, Some(&user), &user.csrf, &err)),
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct RenderForm {
    body: String,
}

/// The live preview of the editor: Markdown to sanitised HTML (always
/// sanitised here, whatever `raw_html` says, since it lands in the admin).
pub(crate) async fn render_markdown(
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

/// Where a completed login goes: back to the editor with the unsaved text
/// it carried, or to `next`.
pub(crate) async fn after_login(
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
    Redirect::to(&crate::server::ui::page::safe_next(next)).into_response()
}
