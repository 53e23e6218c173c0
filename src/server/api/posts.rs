//! `/api/v1/posts`: the paged list, create, read, update (with `If-Match`
//! revisions) and delete, as JSON with the revision as `ETag`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde_json::json;

use crate::server::error::ApiError;
use crate::server::extract::{JsonBody, QueryParams, if_match, page_json};
use crate::server::ops::access::may_change;
use crate::server::ops::posts::{
    ListParams, PostRequest, create_post, delete_post, list_page, load_visible, post_file,
    update_post,
};
use crate::server::session::CurrentUser;
use crate::server::state::AppState;
use crate::store::posts::StoredPost;

/// A post's fields as the API shows them.
pub fn summary_json(post: &StoredPost) -> serde_json::Value {
    json!({
        "slug": post.slug,
        "title": post.title,
        "date": post.date,
        "draft": post.draft,
        "tags": post.tags,
        "summary": post.summary,
        "cover": post.cover,
        "author": post.author,
        "authors": post.authors,
        "revision": post.revision,
        "problem": post.problem,
    })
}

/// An `ETag` header value for `revision`.
pub fn etag(revision: &str) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{revision}\"")).unwrap_or(HeaderValue::from_static("\"\""))
}

/// `GET /api/v1/posts?page=&limit=&sort=&order=&state=&tag=&author=&q=`:
/// `{posts, total, page, pages, limit}`, without bodies.
pub async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    QueryParams(params): QueryParams<ListParams>,
) -> Result<Response, ApiError> {
    let page = list_page(&state, &user, params.query()?).await?;
    let now = Utc::now();
    let posts: Vec<_> = page
        .items
        .iter()
        .map(|p| {
            let mut item = summary_json(&p.post);
            item["editable"] = json!(may_change(&user, &p.post.authors));
            item["state"] = json!(p.state(now).as_str());
            item["updated"] = json!(DateTime::<Utc>::from(p.updated).to_rfc3339());
            item
        })
        .collect();
    Ok(Json(page_json("posts", posts, &page)).into_response())
}

/// `POST /api/v1/posts`: 201 `{slug, revision}`.
pub async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    JsonBody(request): JsonBody<PostRequest>,
) -> Result<Response, ApiError> {
    let post = create_post(&state, &user, request).await?;
    let mut response = saved(&state, &post).await;
    *response.status_mut() = StatusCode::CREATED;
    let headers = response.headers_mut();
    if let Ok(location) = HeaderValue::from_str(&format!("/api/v1/posts/{}", post.slug)) {
        headers.insert(header::LOCATION, location);
    }
    Ok(response)
}

/// `GET /api/v1/posts/{slug}`.
pub async fn get(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(slug): Path<String>,
) -> Result<Response, ApiError> {
    let post = load_visible(&state, &user, slug).await?;
    let mut body = summary_json(&post);
    body["body"] = json!(post.body);
    body["editable"] = json!(may_change(&user, &post.authors));
    let mut response = Json(body).into_response();
    response
        .headers_mut()
        .insert(header::ETAG, etag(&post.revision));
    Ok(response)
}

/// The `If-Match` revision, or 428 without one.
pub fn require_if_match(headers: &HeaderMap) -> Result<String, ApiError> {
    if_match(headers).ok_or_else(|| {
        ApiError::new(
            StatusCode::PRECONDITION_REQUIRED,
            "revision_required",
            "send the revision you edited in an `If-Match` header (the `revision` or ETag from GET)",
        )
    })
}

/// `PUT /api/v1/posts/{slug}`: 200 with the new revision; 412 when stale,
/// 428 without If-Match, 403 for other people's posts.
pub async fn update(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(slug): Path<String>,
    headers: HeaderMap,
    JsonBody(request): JsonBody<PostRequest>,
) -> Result<Response, ApiError> {
    let expected = require_if_match(&headers)?;
    let post = update_post(&state, &user, slug, expected, request).await?;
    Ok(saved(&state, &post).await)
}

/// The answer to a change of `post`, once the preview has it:
/// `{slug, revision, build}` with the new `ETag`.
pub async fn saved(state: &AppState, post: &StoredPost) -> Response {
    let build = state.preview().rebuild_for(post_file(&post.slug)).await;
    let mut body =
        json!({ "slug": post.slug, "revision": post.revision, "build": build.summary() });
    if let Some(error) = &post.history_error {
        // Saved all the same; the author and the log are told.
        state.log(&format!("error: post {}: {error}", post.slug));
        body["history_error"] = json!(error);
    }
    let mut response = Json(body).into_response();
    response
        .headers_mut()
        .insert(header::ETAG, etag(&post.revision));
    response
}

/// `DELETE /api/v1/posts/{slug}`: 204 (the file goes to .quire/trash/).
pub async fn delete(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(slug): Path<String>,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    delete_post(&state, &user, slug.clone(), if_match(&headers)).await?;
    state.preview().rebuild_for(post_file(&slug)).await;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v1/tags`: `{tags: [{name, count}]}`, most used first, from
/// the posts the caller may see.
pub async fn tags(State(state): State<AppState>, user: CurrentUser) -> Result<Response, ApiError> {
    let tags: Vec<serde_json::Value> = crate::server::ops::posts::tags(&state, &user)
        .await?
        .into_iter()
        .map(|(name, count)| json!({ "name": name, "count": count }))
        .collect();
    Ok(Json(json!({ "tags": tags })).into_response())
}
