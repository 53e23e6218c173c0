//! Account operations: the user's own profile and password, registration
//! and password resets, user management for admins, site settings.

use serde::Deserialize;
use serde_json::json;

use crate::accounts::{Role, UserChange, UserInfo, UserQuery, Username, query_users};
use crate::build::Changes;
use crate::server::error::{ApiError, blocking};
use crate::server::ops;
use crate::server::ops::access::require_admin;
use crate::server::session::{CurrentUser, establish};
use crate::server::state::AppState;
use crate::store::listing::{ListError, Paged, Paging, given};
use crate::store::profiles::{Profile, ProfileChange};
use crate::store::settings::SiteSettings;

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
        return Err(ops::auth::login_error(ops::auth::LoginFailure::Throttled(
            wait,
        )));
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

/// The public description of a user.
pub fn user_json(state: &AppState, user: &UserInfo) -> serde_json::Value {
    let display_name = Username::parse(&user.username)
        .map(|u| crate::store::profiles::read(&state.config(), &u).display_name)
        .unwrap_or_else(|_| user.username.clone());
    json!({
        "username": user.username,
        "role": user.role,
        "display_name": display_name,
        "disabled": user.disabled,
        "created": user.created,
        "totp": user.totp,
    })
}

/// Logs and audits a password set with a reset link (API or form).
pub async fn reset_done(state: &AppState, username: &str) {
    state.log(&format!("password reset for {username}"));
    state
        .audit(
            username,
            "password reset",
            crate::store::audit::Target::User,
            username,
        )
        .await;
}

/// Body of a registration.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Registration {
    /// Wanted username.
    pub username: String,
    /// Password.
    pub password: String,
}

/// Creates an author account when registration is on; returns the user.
pub async fn register_user(
    state: &AppState,
    ip: std::net::IpAddr,
    body: Registration,
) -> Result<UserInfo, ApiError> {
    if !state.config().server.allow_registration {
        return Err(ApiError::not_found("registration is not open on this site"));
    }
    // Each registration costs a password hash and a rebuild: count it
    // against the address like a login attempt.
    if let Some(wait) = state.throttle().begin_address(ip) {
        return Err(ops::auth::login_error(ops::auth::LoginFailure::Throttled(
            wait,
        )));
    }
    let username = Username::parse(&body.username)?;
    let name = username.clone();
    let config = state.config();
    let user = state
        .password_work(move |accounts| -> Result<UserInfo, ApiError> {
            // A name with a profile belongs to someone (perhaps a removed
            // user whose posts remain): never hand it to a stranger.
            if std::fs::symlink_metadata(crate::store::profiles::path(&config, &name)).is_ok() {
                return Err(crate::accounts::AccountError::UserExists(name.to_string()).into());
            }
            accounts.add(&name, Role::Author, &body.password)?;
            crate::store::profiles::create_default(&config, &name).map_err(ApiError::internal)?;
            accounts
                .get(name.as_str())?
                .ok_or_else(|| ApiError::internal("the new user vanished"))
        })
        .await??;
    state.log(&format!("registered {username}"));
    state
        .audit(
            username.as_str(),
            "register",
            crate::store::audit::Target::User,
            username.as_str(),
        )
        .await;
    state
        .preview()
        .request_rebuild(profile_file(state, &username));
    Ok(user)
}
