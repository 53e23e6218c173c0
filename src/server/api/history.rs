//! `/api/v1/posts/{slug}/history` and `/restore`: a post's revisions (also
//! once deleted), one of them, and restoring one, as JSON.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use crate::server::api::posts::{require_if_match, saved, summary_json};
use crate::server::error::{ApiError, blocking};
use crate::server::extract::JsonBody;
use crate::server::ops::history::{owned, restore_post};
use crate::server::session::CurrentUser;
use crate::server::state::AppState;

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
