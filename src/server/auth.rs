//! Logging in and out, registration, password resets, and the one rule
//! of who may change what.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use tower_sessions::Session;

use super::error::ApiError;
use super::extract::{ClientIp, JsonBody};
use super::session::{CurrentUser, establish};
use super::state::AppState;
use crate::accounts::{Role, UserInfo, Username};

/// The one place that decides whether `user` may change something owned
/// by `authors` (a post's authors, an upload's owner). Admins may change
/// anything; authors only what is theirs. Things without an owner belong to
/// admins.
pub fn may_change(user: &CurrentUser, authors: &[String]) -> bool {
    user.role == Role::Admin || authors.contains(&user.username)
}

/// The generic failure: the same for unknown users, wrong passwords and
/// disabled accounts.
pub const LOGIN_FAILED: &str = "the username or password is wrong";

/// Body of a login.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    /// Username.
    pub username: String,
    /// Password.
    pub password: String,
}

/// Why a login attempt failed.
#[derive(Debug)]
pub enum LoginFailure {
    /// Too many failures recently; seconds to wait.
    Throttled(u64),
    /// Wrong credentials (deliberately unspecific).
    Rejected,
}

/// Checks credentials with the throttle; the slow hash runs off the runtime.
pub async fn check_login(
    state: &AppState,
    ip: std::net::IpAddr,
    username: &str,
    password: &str,
) -> Result<Result<UserInfo, LoginFailure>, ApiError> {
    let shown = loggable(username);
    if let Some(wait) = state.throttle().begin(username, ip) {
        state.log(&format!("login throttled for {shown} from {ip}"));
        return Ok(Err(LoginFailure::Throttled(wait)));
    }
    let (name, pass) = (username.to_string(), password.to_string());
    let user = state
        .password_work(move |accounts| accounts.authenticate(&name, &pass))
        .await??;
    match user {
        Some(user) => {
            state.throttle().succeed(username, ip);
            Ok(Ok(user))
        }
        None => {
            state.log(&format!("failed login for {shown} from {ip}"));
            Ok(Err(LoginFailure::Rejected))
        }
    }
}

/// A submitted username as it may appear in the log: only well-formed
/// names, since a password typed into the wrong field must never be logged.
pub fn loggable(username: &str) -> String {
    match Username::parse(username) {
        Ok(name) => format!("{:?}", name.as_str()),
        Err(_) => "(not a valid username)".into(),
    }
}

/// The API form of a failed login.
pub fn login_error(failure: LoginFailure) -> ApiError {
    match failure {
        LoginFailure::Throttled(wait) => ApiError {
            retry_after: Some(wait),
            ..ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "throttled",
                format!("too many failed logins; try again in {wait} seconds"),
            )
        },
        LoginFailure::Rejected => {
            ApiError::new(StatusCode::UNAUTHORIZED, "login_failed", LOGIN_FAILED)
        }
    }
}

/// `POST /api/v1/session`.
pub async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    session: Session,
    JsonBody(body): JsonBody<Credentials>,
) -> Result<Response, ApiError> {
    let user = check_login(&state, ip, &body.username, &body.password)
        .await?
        .map_err(login_error)?;
    if user.totp {
        // Nothing is usable until the code: the session is not logged in.
        let csrf = super::session::begin_second_step(&session, &user).await?;
        state.log(&format!(
            "password accepted for {}; waiting for the code",
            user.username
        ));
        return Ok(Json(json!({ "totp_required": true, "csrf_token": csrf })).into_response());
    }
    let csrf = establish(&session, &user).await?;
    state.log(&format!("login {}", user.username));
    Ok(Json(json!({ "user": user_json(&state, &user), "csrf_token": csrf })).into_response())
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

/// `DELETE /api/v1/session`: the session is deleted from the store.
pub async fn logout(user: CurrentUser) -> Result<StatusCode, ApiError> {
    user.session.flush().await?;
    Ok(StatusCode::NO_CONTENT)
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
        return Err(login_error(LoginFailure::Throttled(wait)));
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
        .request_rebuild(super::users::profile_file(state, &username));
    Ok(user)
}

/// `POST /api/v1/register`: 201, logged in.
pub async fn register(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    session: Session,
    JsonBody(body): JsonBody<Registration>,
) -> Result<Response, ApiError> {
    let user = register_user(&state, ip, body).await?;
    let csrf = establish(&session, &user).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "user": user_json(&state, &user), "csrf_token": csrf })),
    )
        .into_response())
}

/// Body of a password reset.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reset {
    /// The token from the reset link.
    pub token: String,
    /// The new password.
    pub password: String,
}

/// `POST /api/v1/password-reset`: 204; the token is used up.
pub async fn password_reset(
    State(state): State<AppState>,
    JsonBody(body): JsonBody<Reset>,
) -> Result<StatusCode, ApiError> {
    let username = state
        .password_work(move |accounts| accounts.redeem_reset(&body.token, &body.password))
        .await??;
    reset_done(&state, &username).await;
    Ok(StatusCode::NO_CONTENT)
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
