//! `/api/v1/me…` (the logged-in user's own account), `/api/v1/users…` (user
//! management for admins) and `/api/v1/settings`, as JSON.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::server::error::{ApiError, blocking};
use crate::server::extract::{ClientIp, JsonBody, QueryParams, page_json};
use crate::server::ops::access::require_admin;
use crate::server::ops::users::{
    NewUser, PasswordRequest, ProfileRequest, SiteSettingsRequest, UserListParams, UserPatch,
    change_password, create_user, list_page, own_profile, patch_user, remove_user, save_profile,
    save_settings, user_json,
};
use crate::server::session;
use crate::server::session::CurrentUser;
use crate::server::state::AppState;
use crate::store::settings::SiteSettings;

/// `GET /api/v1/me`.
pub async fn me(State(state): State<AppState>, user: CurrentUser) -> Result<Response, ApiError> {
    let profile = own_profile(&state, &user).await?;
    let st = state.clone();
    let name = user.username.clone();
    let totp = blocking(move || st.accounts().get(&name))
        .await??
        .is_some_and(|u| u.totp);
    Ok(Json(json!({
        "username": user.username,
        "role": user.role,
        "totp": totp,
        "totp_setup_required": user.needs_totp_setup,
        "display_name": profile.display_name,
        "bio": profile.bio,
        "avatar": profile.avatar,
        "csrf_token": user.csrf,
    }))
    .into_response())
}

/// `PUT /api/v1/me/profile`.
pub async fn profile(
    State(state): State<AppState>,
    user: CurrentUser,
    JsonBody(request): JsonBody<ProfileRequest>,
) -> Result<Response, ApiError> {
    let profile = save_profile(&state, &user, request).await?;
    Ok(Json(json!(profile)).into_response())
}

/// `PUT /api/v1/me/password`: 204.
pub async fn password(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientIp(ip): ClientIp,
    JsonBody(request): JsonBody<PasswordRequest>,
) -> Result<Response, ApiError> {
    change_password(&state, &user, ip, request).await?;
    let csrf = session::csrf_token(&user.session).await?;
    Ok(session::with_csrf_header(
        StatusCode::NO_CONTENT.into_response(),
        &csrf,
    ))
}

/// `GET /api/v1/users?page=&limit=&role=&q=` (admin):
/// `{users, total, page, pages, limit}`.
pub async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    QueryParams(params): QueryParams<UserListParams>,
) -> Result<Response, ApiError> {
    let page = list_page(&state, &user, params.query()?).await?;
    let users: Vec<_> = page.items.iter().map(|u| user_json(&state, u)).collect();
    Ok(Json(page_json("users", users, &page)).into_response())
}

/// `POST /api/v1/users` (admin): 201.
pub async fn create(
    State(state): State<AppState>,
    admin: CurrentUser,
    JsonBody(body): JsonBody<NewUser>,
) -> Result<Response, ApiError> {
    let name = body.username.clone();
    create_user(&state, &admin, body).await?;
    let st = state.clone();
    let info = blocking(move || st.accounts().get(&name))
        .await??
        .ok_or_else(|| ApiError::internal("the new user vanished"))?;
    Ok((StatusCode::CREATED, Json(user_json(&state, &info))).into_response())
}

/// `PATCH /api/v1/users/{name}` (admin).
pub async fn patch(
    State(state): State<AppState>,
    admin: CurrentUser,
    Path(name): Path<String>,
    JsonBody(patch): JsonBody<UserPatch>,
) -> Result<Response, ApiError> {
    let info = patch_user(&state, &admin, name, patch).await?;
    Ok(Json(user_json(&state, &info)).into_response())
}

/// `DELETE /api/v1/users/{name}` (admin): 204; their posts keep their author.
pub async fn remove(
    State(state): State<AppState>,
    admin: CurrentUser,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    remove_user(&state, &admin, name).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v1/settings` (admin).
pub async fn settings(
    State(state): State<AppState>,
    admin: CurrentUser,
) -> Result<Response, ApiError> {
    require_admin(&state, &admin)?;
    Ok(Json(json!(SiteSettings::of(&state.config()))).into_response())
}

/// `PUT /api/v1/settings` (admin).
pub async fn put_settings(
    State(state): State<AppState>,
    admin: CurrentUser,
    JsonBody(settings): JsonBody<SiteSettingsRequest>,
) -> Result<Response, ApiError> {
    let current = SiteSettings::of(&state.config());
    let settings = SiteSettings {
        title: settings.title.unwrap_or(current.title),
        description: settings.description.unwrap_or(current.description),
        posts_per_page: settings.posts_per_page.unwrap_or(current.posts_per_page),
    };
    let saved = save_settings(&state, &admin, settings).await?;
    Ok(Json(json!(saved)).into_response())
}
