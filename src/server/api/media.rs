//! `/api/v1/media` and `/api/v1/me/avatar`: multipart uploads in, the
//! stored image's path and size out; the paged media list; deletes.

use axum::Json;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::server::error::ApiError;
use crate::server::extract::{QueryParams, page_json};
use crate::server::ops::access::may_change;
use crate::server::ops::media::{
    MediaListParams, avatar_files, delete_media, list_page, media_file, read_form, store_avatar,
    store_upload, thumbnail_url,
};
use crate::server::session::CurrentUser;
use crate::server::state::AppState;
use crate::store::media::Stored;

fn stored_json(stored: &Stored) -> serde_json::Value {
    json!({
        "path": stored.path,
        "url": format!("/media/{}", crate::build::images::encode_url_path(&stored.path)),
        "width": stored.width,
        "height": stored.height,
    })
}

/// `POST /api/v1/media`: 201 `{path, width, height}`.
pub async fn upload(
    State(state): State<AppState>,
    user: CurrentUser,
    multipart: Multipart,
) -> Result<Response, ApiError> {
    let form = read_form(multipart, state.media().max_upload()).await?;
    let stored = store_upload(&state, &user, form).await?;
    state.preview().request_rebuild(media_file(&stored.path));
    Ok((StatusCode::CREATED, Json(stored_json(&stored))).into_response())
}

/// `GET /api/v1/media?page=&limit=&sort=&order=&uploader=&q=`:
/// `{media, total, page, pages, limit}`.
pub async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    QueryParams(params): QueryParams<MediaListParams>,
) -> Result<Response, ApiError> {
    let page = list_page(&state, params.query()?).await?;
    let items: Vec<_> = page
        .items
        .iter()
        .map(|item| {
            let mut value = json!(item);
            value["deletable"] = json!(may_change(&user, item.uploader.as_slice()));
            if let Some(thumbnail) = thumbnail_url(item) {
                value["thumbnail"] = json!(thumbnail);
            }
            value
        })
        .collect();
    Ok(Json(page_json("media", items, &page)).into_response())
}

/// `DELETE /api/v1/media/{path}`: 204.
pub async fn delete(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(path): Path<String>,
) -> Result<StatusCode, ApiError> {
    let deleted = delete_media(&state, &user, path).await?;
    state.preview().rebuild_for(media_file(&deleted)).await;
    Ok(StatusCode::NO_CONTENT)
}

/// `PUT /api/v1/me/avatar`: the picture, scaled to at most 480×480.
pub async fn avatar(
    State(state): State<AppState>,
    user: CurrentUser,
    multipart: Multipart,
) -> Result<Response, ApiError> {
    let form = read_form(multipart, state.media().max_upload()).await?;
    let stored = store_avatar(&state, &user, form).await?;
    state
        .preview()
        .rebuild_for(avatar_files(&state, &user, &stored))
        .await;
    Ok(Json(stored_json(&stored)).into_response())
}
