//! Uploads, avatars and media deletes: multipart forms read within the
//! limits, images checked and stored by the media store, the preview told,
//! the audit trail written; the paged media list.

use std::collections::HashMap;

use axum::extract::Multipart;
use axum::http::StatusCode;
use chrono::Utc;
use serde::Deserialize;

use crate::build::Changes;
use crate::server::error::{ApiError, blocking};
use crate::server::ops;
use crate::server::ops::access::may_change;
use crate::server::session::CurrentUser;
use crate::server::state::AppState;
use crate::store::listing::{ListError, Order, Paged, Paging, given};
use crate::store::media::{MediaItem, MediaQuery, MediaSort, Stored, query_media};

/// A multipart form: its `file` part and its text fields.
#[derive(Debug, Default)]
pub struct UploadForm {
    /// The file's client-side name and bytes.
    pub file: Option<(Option<String>, Vec<u8>)>,
    /// Other fields (the HTML form's CSRF token).
    pub fields: HashMap<String, String>,
}

/// Reads a multipart body, refusing files over `limit` bytes with 413.
pub async fn read_form(mut multipart: Multipart, limit: u64) -> Result<UploadForm, ApiError> {
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!(
                "the file is larger than the upload limit of {} MiB (server.max_upload_mib)",
                limit / (1024 * 1024)
            ),
        )
    };
    let broken = |err: axum::extract::multipart::MultipartError| {
        if err.status() == StatusCode::PAYLOAD_TOO_LARGE {
            too_large()
        } else {
            ApiError::bad_request(
                "malformed_multipart",
                format!("the upload could not be read: {}", err.body_text()),
            )
        }
    };
    let mut form = UploadForm::default();
    while let Some(mut field) = multipart.next_field().await.map_err(broken)? {
        let name = field.name().unwrap_or_default().to_string();
        if name == "file" {
            let file_name = field.file_name().map(String::from);
            let mut bytes = Vec::new();
            let mut over = false;
            while let Some(chunk) = field.chunk().await.map_err(broken)? {
                if over || (bytes.len() + chunk.len()) as u64 > limit {
                    // Read (and drop) the rest, which the route's body limit
                    // bounds, so the client gets the 413 instead of a reset
                    // connection.
                    over = true;
                    bytes = Vec::new();
                    continue;
                }
                bytes.extend_from_slice(&chunk);
            }
            if over {
                while multipart.next_field().await.ok().flatten().is_some() {}
                return Err(too_large());
            }
            form.file = Some((file_name, bytes));
        } else if form.fields.len() < 16 {
            let text = field.text().await.map_err(broken)?;
            form.fields.insert(name, text.chars().take(4096).collect());
        }
    }
    Ok(form)
}

fn missing_file() -> ApiError {
    ApiError::bad_request(
        "missing_file",
        "send the image as a multipart form field named `file`",
    )
}

/// Stores an upload by `user`; shared with the HTML media library.
pub async fn store_upload(
    state: &AppState,
    user: &CurrentUser,
    form: UploadForm,
) -> Result<Stored, ApiError> {
    let (name, bytes) = form.file.ok_or_else(missing_file)?;
    let st = state.clone();
    let uploader = user.username.clone();
    let stored = blocking(move || {
        st.media()
            .upload(&bytes, name.as_deref(), &uploader, Utc::now())
    })
    .await?
    .inspect_err(|err| state.log(&format!("upload refused for {}: {err}", user.username)))?;
    state.log(&format!("{} uploaded media/{}", user.username, stored.path));
    state
        .audit(
            &user.username,
            "upload",
            crate::store::audit::Target::Media,
            &stored.path,
        )
        .await;
    Ok(stored)
}

/// The query string of a media list (API, media page and picker).
#[derive(Debug, Default, Clone, Deserialize, serde::Serialize)]
pub struct MediaListParams {
    /// Page number, from 1.
    pub page: Option<String>,
    /// Files per page (1–500, default 50).
    pub limit: Option<String>,
    /// `uploaded`, `name` or `size`.
    pub sort: Option<String>,
    /// `asc` or `desc`.
    pub order: Option<String>,
    /// A username.
    pub uploader: Option<String>,
    /// Words the path must contain.
    pub q: Option<String>,
}

impl MediaListParams {
    /// The typed query, or which parameter is wrong.
    pub fn query(&self) -> Result<MediaQuery, ListError> {
        let sort: MediaSort = given(&self.sort).map_or(Ok(MediaSort::Uploaded), |s| s.parse())?;
        let natural = if sort == MediaSort::Name {
            Order::Asc
        } else {
            Order::Desc
        };
        Ok(MediaQuery {
            text: given(&self.q).map(String::from),
            uploader: given(&self.uploader).map(String::from),
            sort,
            order: given(&self.order).map_or(Ok(natural), |o| o.parse())?,
            paging: Paging::parse(given(&self.page), given(&self.limit))?,
        })
    }
}

/// One page of media files, as `query` selects them.
pub async fn list_page(state: &AppState, query: MediaQuery) -> Result<Paged<MediaItem>, ApiError> {
    let st = state.clone();
    blocking(move || query_media(st.media().list(), &query)).await
}

/// What a change to `path` (relative to media/) gives the preview to rebuild.
pub fn media_file(path: &str) -> Changes {
    Changes::Paths(vec![std::path::PathBuf::from("media").join(path)])
}

/// What a new avatar changed: the picture and the profile that shows it.
pub fn avatar_files(state: &AppState, user: &CurrentUser, stored: &Stored) -> Changes {
    match crate::accounts::Username::parse(&user.username) {
        Ok(name) => media_file(&stored.path).merge(ops::users::profile_file(state, &name)),
        Err(_) => Changes::Everything,
    }
}

/// Deletes a media file after the permission check; shared with the UI.
/// Returns the deleted file's path relative to media/.
pub async fn delete_media(
    state: &AppState,
    user: &CurrentUser,
    path: String,
) -> Result<String, ApiError> {
    let st = state.clone();
    let resolved = blocking(move || st.media().resolve(&path)).await??;
    let st = state.clone();
    let lookup = resolved.clone();
    let owner = blocking(move || st.media().uploader(&lookup)).await?;
    if !may_change(user, owner.as_slice()) {
        state.log(&format!(
            "denied: {} may not delete media/{resolved}",
            user.username
        ));
        return Err(ApiError::forbidden(
            "this file was uploaded by someone else; only they or an admin may delete it",
        ));
    }
    let st = state.clone();
    let target = resolved.clone();
    blocking(move || st.media().delete(&target)).await??;
    state.log(&format!("{} deleted media/{resolved}", user.username));
    state
        .audit(
            &user.username,
            "delete",
            crate::store::audit::Target::Media,
            &resolved,
        )
        .await;
    Ok(resolved)
}

/// Stores a new avatar for `user` and points their profile at it.
pub async fn store_avatar(
    state: &AppState,
    user: &CurrentUser,
    form: UploadForm,
) -> Result<Stored, ApiError> {
    let (_, bytes) = form.file.ok_or_else(missing_file)?;
    let username = user.username.clone();
    let stored = state
        .image_work(move |st| -> Result<Stored, ApiError> {
            let name = crate::accounts::Username::parse(&username)?;
            let stored = st.media().upload_avatar(&bytes, &username, Utc::now())?;
            crate::store::profiles::update(
                &st.config(),
                &name,
                &crate::store::profiles::ProfileChange {
                    avatar: Some(stored.path.clone()),
                    ..Default::default()
                },
            )?;
            Ok(stored)
        })
        .await??;
    state.log(&format!("{} changed their avatar", user.username));
    state
        .audit(
            &user.username,
            "avatar",
            crate::store::audit::Target::User,
            &user.username,
        )
        .await;
    Ok(stored)
}

/// Where the admin serves a small version of `item`, if it is an image
/// (the library page, the editor's picker and the API list all use it).
pub fn thumbnail_url(item: &MediaItem) -> Option<String> {
    item.width
        .map(|_| item.url.replacen("/media/", "/admin/thumbs/", 1))
}
