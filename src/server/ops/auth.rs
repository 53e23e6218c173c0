//! Logging in: the password check with its throttle, and the one generic
//! failure that reveals nothing about which part was wrong.

use axum::http::StatusCode;
use serde::Deserialize;

use crate::accounts::{UserInfo, Username};
use crate::server::error::ApiError;
use crate::server::state::AppState;

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
