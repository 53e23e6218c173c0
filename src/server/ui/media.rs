//! `/admin/media`: the upload form and one page of the media library;
//! deletes; originals served to logged-in users.

use axum::extract::{Form, Multipart, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use tower_sessions::Session;

use crate::server::error::{ApiError, blocking};
use crate::server::ops;
use crate::server::ops::access::may_change;
use crate::server::session::CurrentUser;
use crate::server::state::AppState;
use crate::server::ui::page::{Page, check_form_csrf, pager, to_login};

/// `GET /admin/originals/{path}`: an original image from media/, for the
/// media library and the editor's preview (the public site only has the
/// resized variants). Only raster images are served, typed by their bytes.
pub(crate) async fn original(
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

/// `GET /admin/thumbs/{path}`: a small version of an image in media/, for
/// the library and the editor's picker (made once, kept in .quire/thumbs/).
pub(crate) async fn thumbnail(
    State(state): State<AppState>,
    _user: CurrentUser,
    Path(path): Path<String>,
) -> Result<Response, ApiError> {
    let st = state.clone();
    let (bytes, mime) = blocking(move || st.media().thumbnail(&path)).await??;
    Ok((
        [
            (header::CONTENT_TYPE, mime),
            (header::CACHE_CONTROL, "private, max-age=3600"),
        ],
        bytes,
    )
        .into_response())
}

/// `GET /admin/media?q=&sort=&order=&page=` (and `uploaded=` after an upload).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct MediaPageQuery {
    #[serde(flatten)]
    list: ops::media::MediaListParams,
    uploaded: Option<String>,
}

/// `GET /admin/media`: the upload form and one page of the library.
pub(crate) async fn media_page(
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
    params: &ops::media::MediaListParams,
) -> Result<Response, ApiError> {
    let (query, query_error) = match params.query() {
        Ok(query) => (query, None),
        Err(err) => (Default::default(), Some(ApiError::from(err))),
    };
    let error = error.or(query_error.as_ref());
    let page = ops::media::list_page(state, query).await?;
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
            value["thumbnail"] = json!(ops::media::thumbnail_url(&item));
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
pub(crate) async fn checked_upload(
    state: &AppState,
    session: &Session,
    multipart: Multipart,
) -> Result<ops::media::UploadForm, ApiError> {
    let form = ops::media::read_form(multipart, state.media().max_upload()).await?;
    check_form_csrf(session, form.fields.get("csrf_token").map(String::as_str)).await?;
    Ok(form)
}

/// `POST /admin/media`: a form upload, then the library with a notice.
pub(crate) async fn upload_media(
    State(state): State<AppState>,
    user: Option<CurrentUser>,
    session: Session,
    multipart: Multipart,
) -> Result<Response, ApiError> {
    let Some(user) = user else {
        return Ok(to_login("/admin/media"));
    };
    let result = match checked_upload(&state, &session, multipart).await {
        Ok(form) => ops::media::store_upload(&state, &user, form).await,
        Err(err) => Err(err),
    };
    match result {
        Ok(stored) => {
            state
                .preview()
                .rebuild_for(ops::media::media_file(&stored.path))
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
pub(crate) struct PathForm {
    path: String,
    csrf_token: Option<String>,
}

/// `POST /admin/media/delete`: moves a file to the trash unless a post shows it.
pub(crate) async fn delete_media(
    State(state): State<AppState>,
    user: Option<CurrentUser>,
    session: Session,
    Form(form): Form<PathForm>,
) -> Result<Response, ApiError> {
    let Some(user) = user else {
        return Ok(to_login("/admin/media"));
    };
    let result = match check_form_csrf(&session, form.csrf_token.as_deref()).await {
        Ok(()) => ops::media::delete_media(&state, &user, form.path).await,
        Err(err) => Err(err),
    };
    match result {
        Ok(deleted) => {
            state
                .preview()
                .rebuild_for(ops::media::media_file(&deleted))
                .await;
            Ok(Redirect::to("/admin/media").into_response())
        }
        Err(err) => media_with(&state, &user, Some(&err), None).await,
    }
}
