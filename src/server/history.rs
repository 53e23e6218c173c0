//! A post's history over the API: its revisions (also once deleted), one
//! revision's text, and restore. Only the post's authors and admins see
//! any of it: another author gets 403 for a published post and 404 for a
//! draft or a deleted post, as for the post itself.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::auth::may_change;
use super::error::{ApiError, blocking};
use super::extract::JsonBody;
use super::posts::{require_if_match, saved, summary_json};
use super::session::CurrentUser;
use super::state::AppState;
use crate::store::posts::StoredPost;

/// The post (or its deleted text) if `user` may see its history.
pub async fn owned(
    state: &AppState,
    user: &CurrentUser,
    slug: &str,
) -> Result<(StoredPost, bool), ApiError> {
    let (st, name) = (state.clone(), slug.to_string());
    let (post, deleted) = blocking(move || st.posts().current_or_deleted(&name)).await??;
    if may_change(user, &post.authors) {
        return Ok((post, deleted));
    }
    if post.draft || deleted {
        return Err(ApiError::not_found(format!(
            "there is no post `{}`",
            post.slug
        )));
    }
    state.log(&format!(
        "denied: {} may not read the history of post {}",
        user.username, post.slug
    ));
    Err(ApiError::forbidden(
        "only the post's authors and admins may see its history",
    ))
}

/// `GET /api/v1/posts/{slug}/history`: newest first.
pub async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(slug): Path<String>,
) -> Result<Response, ApiError> {
    owned(&state, &user, &slug).await?;
    let st = state.clone();
    let entries = blocking(move || st.posts().history(&slug)).await??;
    Ok(Json(json!(entries)).into_response())
}

/// `GET /api/v1/posts/{slug}/history/{revision}`: that revision's fields
/// and body.
pub async fn one(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((slug, revision)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    owned(&state, &user, &slug).await?;
    let st = state.clone();
    let (entry, post) = blocking(move || st.posts().revision(&slug, &revision)).await??;
    let mut body = summary_json(&post);
    body["body"] = json!(post.body);
    body["author_of_revision"] = json!(entry.author);
    body["saved"] = json!(entry.date);
    body["action"] = json!(entry.action);
    Ok(Json(body).into_response())
}

/// The body of a restore request.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RestoreRequest {
    /// The revision to make current.
    pub revision: String,
}

/// `POST /api/v1/posts/{slug}/restore` with `If-Match`: 200 with the new
/// revision; 412 when the post changed since; restores a deleted post too.
pub async fn restore(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(slug): Path<String>,
    headers: HeaderMap,
    JsonBody(request): JsonBody<RestoreRequest>,
) -> Result<Response, ApiError> {
    let expected = require_if_match(&headers)?;
    let post = restore_post(&state, &user, slug, request.revision, expected).await?;
    Ok(saved(&state, &post).await)
}

/// Restores `revision` of a post at `expected` after the permission
/// check; shared with the HTML history page.
pub async fn restore_post(
    state: &AppState,
    user: &CurrentUser,
    slug: String,
    revision: String,
    expected: String,
) -> Result<StoredPost, ApiError> {
    owned(state, user, &slug).await?;
    let (st, actor) = (state.clone(), user.username.clone());
    let post = blocking(move || st.posts().restore(&slug, &revision, &expected, &actor)).await??;
    state.log(&format!("{} restored post {}", user.username, post.slug));
    state
        .audit(
            &user.username,
            "restore",
            crate::store::audit::Target::Post,
            &post.slug,
        )
        .await;
    Ok(post)
}
