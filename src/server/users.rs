//! The logged-in user's own account (`/api/v1/me…`), the admin's user
//! management (`/api/v1/users…`) and site settings (`/api/v1/settings`).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::auth::user_json;
use super::error::{ApiError, blocking};
use super::extract::{ClientIp, JsonBody, QueryParams, page_json};
use super::session::{CurrentUser, establish};
use super::state::AppState;
use crate::accounts::{Role, UserChange, UserInfo, UserQuery, Username, query_users};
use crate::build::Changes;
use crate::store::listing::{ListError, Paged, Paging, given};
use crate::store::profiles::{Profile, ProfileChange};
use crate::store::settings::SiteSettings;

/// 403 for anyone but an admin (logged).
pub fn require_admin(state: &AppState, user: &CurrentUser) -> Result<(), ApiError> {
    if user.is_admin() {
        Ok(())
    } else {
        state.log(&format!("denied: {} is not an admin", user.username));
        Err(ApiError::forbidden(
            "only admins may manage users and site settings",
        ))
    }
}

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

/// The user's public profile.
pub async fn own_profile(state: &AppState, user: &CurrentUser) -> Result<Profile, ApiError> {
    let name = Username::parse(&user.username)?;
    let st = state.clone();
    blocking(move || crate::store::profiles::read(&st.config(), &name)).await
}

/// Body of a profile change.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileRequest {
    /// Display name.
    pub display_name: Option<String>,
    /// Markdown bio.
    pub bio: Option<String>,
}

/// Saves the user's profile; shared with the HTML UI.
pub async fn save_profile(
    state: &AppState,
    user: &CurrentUser,
    request: ProfileRequest,
) -> Result<Profile, ApiError> {
    let name = Username::parse(&user.username)?;
    let changed = profile_file(state, &name);
    let st = state.clone();
    let profile = blocking(move || {
        crate::store::profiles::update(
            &st.config(),
            &name,
            &ProfileChange {
                display_name: request.display_name,
                bio: request.bio,
                avatar: None,
            },
        )
    })
    .await??;
    state.preview().rebuild_for(changed).await;
    Ok(profile)
}

/// What a change to `username`'s profile gives the preview to rebuild.
pub fn profile_file(state: &AppState, username: &Username) -> Changes {
    Changes::Paths(vec![crate::store::profiles::path(
        &state.config(),
        username,
    )])
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

/// Body of a password change.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordRequest {
    /// The password now.
    pub current_password: String,
    /// The new one.
    pub new_password: String,
}

/// Changes the user's own password after checking the current one; every
/// other session of theirs ends, this one continues with a new id.
pub async fn change_password(
    state: &AppState,
    user: &CurrentUser,
    ip: std::net::IpAddr,
    request: PasswordRequest,
) -> Result<(), ApiError> {
    verify_current_password(state, user, ip, request.current_password).await?;
    let name = user.username.clone();
    let info = state
        .password_work(move |accounts| {
            accounts.change(
                &name,
                &UserChange {
                    password: Some(request.new_password),
                    ..UserChange::default()
                },
            )
        })
        .await??;
    establish(&user.session, &info).await?;
    state.log(&format!("{} changed their password", user.username));
    state
        .audit(
            &user.username,
            "password",
            crate::store::audit::Target::User,
            &user.username,
        )
        .await;
    Ok(())
}

/// Checks the logged-in user's password before a sensitive change (a new
/// password, two-factor login off), throttled like a login: it is one in
/// disguise.
pub async fn verify_current_password(
    state: &AppState,
    user: &CurrentUser,
    ip: std::net::IpAddr,
    current: String,
) -> Result<(), ApiError> {
    if let Some(wait) = state.throttle().begin(&user.username, ip) {
        return Err(super::auth::login_error(
            super::auth::LoginFailure::Throttled(wait),
        ));
    }
    let name = user.username.clone();
    let verified = state
        .password_work(move |accounts| accounts.authenticate(&name, &current))
        .await??;
    if verified.is_none() {
        state.log(&format!(
            "wrong current password for {} from {ip}",
            user.username
        ));
        return Err(ApiError::invalid(vec![
            crate::store::document::FieldError::new(
                "current_password",
                "the current password is wrong",
            ),
        ]));
    }
    state.throttle().succeed(&user.username, ip);
    Ok(())
}

/// `PUT /api/v1/me/password`: 204.
pub async fn password(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientIp(ip): ClientIp,
    JsonBody(request): JsonBody<PasswordRequest>,
) -> Result<Response, ApiError> {
    change_password(&state, &user, ip, request).await?;
    let csrf = crate::server::session::csrf_token(&user.session).await?;
    Ok(crate::server::session::with_csrf_header(
        StatusCode::NO_CONTENT.into_response(),
        &csrf,
    ))
}

/// The query string of a user list.
#[derive(Debug, Default, Clone, Deserialize, serde::Serialize)]
pub struct UserListParams {
    /// Page number, from 1.
    pub page: Option<String>,
    /// Users per page (1–500, default 50).
    pub limit: Option<String>,
    /// `author` or `admin`.
    pub role: Option<String>,
    /// Words the username must contain.
    pub q: Option<String>,
}

impl UserListParams {
    /// The typed query, or which parameter is wrong.
    pub fn query(&self) -> Result<UserQuery, ListError> {
        let role = given(&self.role)
            .map(|r| {
                r.parse::<Role>()
                    .map_err(|_| ListError::new("role", r, "`author` or `admin`"))
            })
            .transpose()?;
        Ok(UserQuery {
            text: given(&self.q).map(|t| t.to_lowercase()),
            role,
            paging: Paging::parse(given(&self.page), given(&self.limit))?,
        })
    }
}

/// One page of users, by name (admins only).
pub async fn list_page(
    state: &AppState,
    user: &CurrentUser,
    query: UserQuery,
) -> Result<Paged<UserInfo>, ApiError> {
    require_admin(state, user)?;
    let st = state.clone();
    let users = blocking(move || st.accounts().list()).await??;
    Ok(query_users(users, &query))
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

/// Body of a user creation.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    /// Username.
    pub username: String,
    /// `author` or `admin`.
    pub role: Role,
    /// First password.
    pub password: String,
}

/// Creates a user; shared with the HTML UI.
pub async fn create_user(
    state: &AppState,
    admin: &CurrentUser,
    body: NewUser,
) -> Result<(), ApiError> {
    require_admin(state, admin)?;
    let username = Username::parse(&body.username)?;
    let name = username.clone();
    let config = state.config();
    state
        .password_work(move |accounts| -> Result<(), ApiError> {
            accounts.add(&name, body.role, &body.password)?;
            crate::store::profiles::create_default(&config, &name).map_err(ApiError::internal)?;
            Ok(())
        })
        .await??;
    state.log(&format!("{} created user {username}", admin.username));
    state
        .audit(
            &admin.username,
            "create",
            crate::store::audit::Target::User,
            username.as_str(),
        )
        .await;
    state
        .preview()
        .rebuild_for(profile_file(state, &username))
        .await;
    Ok(())
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

/// Body of a user change.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    /// New role.
    pub role: Option<Role>,
    /// Disable or enable.
    pub disabled: Option<bool>,
    /// New password.
    pub password: Option<String>,
}

/// Changes a user (ending their sessions); shared with the HTML UI.
pub async fn patch_user(
    state: &AppState,
    admin: &CurrentUser,
    name: String,
    patch: UserPatch,
) -> Result<crate::accounts::UserInfo, ApiError> {
    require_admin(state, admin)?;
    let target = name.clone();
    let mut actions = Vec::new();
    if let Some(role) = patch.role {
        actions.push(format!("role {role}"));
    }
    match patch.disabled {
        Some(true) => actions.push("disable".to_string()),
        Some(false) => actions.push("enable".to_string()),
        None => {}
    }
    if patch.password.is_some() {
        actions.push("password".to_string());
    }
    let info = state
        .password_work(move |accounts| {
            accounts.change(
                &target,
                &UserChange {
                    role: patch.role,
                    disabled: patch.disabled,
                    password: patch.password,
                },
            )
        })
        .await??;
    state.log(&format!("{} changed user {name}", admin.username));
    state
        .audit(
            &admin.username,
            &actions.join(", "),
            crate::store::audit::Target::User,
            &name,
        )
        .await;
    Ok(info)
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

/// Removes a user; shared with the HTML UI.
pub async fn remove_user(
    state: &AppState,
    admin: &CurrentUser,
    name: String,
) -> Result<(), ApiError> {
    require_admin(state, admin)?;
    let st = state.clone();
    let target = name.clone();
    blocking(move || st.accounts().remove(&target)).await??;
    state.log(&format!("{} removed user {name}", admin.username));
    state
        .audit(
            &admin.username,
            "remove",
            crate::store::audit::Target::User,
            &name,
        )
        .await;
    Ok(())
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

/// Saves site settings; shared with the HTML UI.
pub async fn save_settings(
    state: &AppState,
    admin: &CurrentUser,
    settings: SiteSettings,
) -> Result<SiteSettings, ApiError> {
    require_admin(state, admin)?;
    let st = state.clone();
    let config = blocking(move || crate::store::settings::save(&st.config(), &settings)).await??;
    let saved = SiteSettings::of(&config);
    state.set_config(config);
    state.log(&format!("{} changed the site settings", admin.username));
    state
        .audit(
            &admin.username,
            "update",
            crate::store::audit::Target::Settings,
            "",
        )
        .await;
    state.preview().rebuild().await;
    Ok(saved)
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

/// Body of a settings change; absent fields stay.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteSettingsRequest {
    /// Title.
    pub title: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Posts per page.
    pub posts_per_page: Option<usize>,
}
