//! Two-factor login: the second step after the password, setting TOTP up
//! (kept in the session until confirmed), confirming and turning it off.

use axum::http::StatusCode;
use chrono::Utc;
use tower_sessions::Session;

use crate::accounts::totp::Enrollment;
use crate::accounts::{Role, SecondFactor, UserInfo};
use crate::server::error::{ApiError, blocking};
use crate::server::ops::auth::{LoginFailure, login_error};
use crate::server::session::{CurrentUser, establish};
use crate::server::state::AppState;
use crate::server::{ops, session};

/// Why a second step failed.
#[derive(Debug)]
pub enum StepFailure {
    /// No password-checked login waits on this session (or it expired).
    NoPendingLogin,
    /// Too many wrong codes; seconds to wait.
    Throttled(u64),
    /// The code is wrong or was used already.
    WrongCode,
}

impl StepFailure {
    /// The API form of the failure.
    pub fn to_api(&self) -> ApiError {
        match self {
            Self::NoPendingLogin => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "no_pending_login",
                "log in with your username and password first; the code step waits 5 minutes",
            ),
            Self::Throttled(wait) => login_error(LoginFailure::Throttled(*wait)),
            Self::WrongCode => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "wrong_code",
                "the code is wrong or was already used; type the code your authenticator app shows now, or a recovery code",
            ),
        }
    }
}

/// A completed login: the user, how the second step was passed, the new
/// session's CSRF token.
#[derive(Debug)]
pub struct Completed {
    /// Who logged in.
    pub user: UserInfo,
    /// Code or recovery code.
    pub factor: SecondFactor,
    /// The logged-in session's CSRF token.
    pub csrf: String,
}

/// Checks the second step of the login waiting on `session`, throttled
/// per account and address like passwords, and logs the session in.
pub async fn second_step(
    state: &AppState,
    ip: std::net::IpAddr,
    session: &Session,
    code: &str,
) -> Result<Result<Completed, StepFailure>, ApiError> {
    let Some(user) = session::second_step_user(session, state).await? else {
        return Ok(Err(StepFailure::NoPendingLogin));
    };
    if let Some(wait) = state.totp_throttle().begin(&user.username, ip) {
        state.log(&format!(
            "second login step throttled for {} from {ip}",
            user.username
        ));
        return Ok(Err(StepFailure::Throttled(wait)));
    }
    let (name, code) = (user.username.clone(), code.to_string());
    let st = state.clone();
    let factor = blocking(move || {
        st.accounts()
            .second_factor(&name, &code, Utc::now().timestamp())
    })
    .await??;
    let Some(factor) = factor else {
        state.log(&format!(
            "wrong second-step code for {} from {ip}",
            user.username
        ));
        return Ok(Err(StepFailure::WrongCode));
    };
    state.totp_throttle().succeed(&user.username, ip);
    let csrf = establish(session, &user).await?;
    match factor {
        SecondFactor::Code => state.log(&format!("login {} (with a code)", user.username)),
        SecondFactor::Recovery(left) => state.log(&format!(
            "login {} with a recovery code ({left} left)",
            user.username
        )),
    }
    Ok(Ok(Completed { user, factor, csrf }))
}

/// Starts turning TOTP on: a new secret, kept in the session until a code
/// confirms it.
pub async fn start_setup(state: &AppState, user: &CurrentUser) -> Result<Enrollment, ApiError> {
    let st = state.clone();
    let name = user.username.clone();
    let info = blocking(move || st.accounts().get(&name))
        .await??
        .ok_or_else(ApiError::unauthenticated)?;
    if info.totp {
        return Err(crate::accounts::AccountError::TotpAlreadyOn.into());
    }
    let enrollment = Enrollment::new(&user.username, &state.config().title);
    session::remember_totp_setup(&user.session, &enrollment.secret).await?;
    Ok(enrollment)
}

/// The secret being set up on the user's session, shown again.
pub async fn pending_setup(
    state: &AppState,
    user: &CurrentUser,
) -> Result<Option<Enrollment>, ApiError> {
    Ok(session::totp_setup(&user.session)
        .await?
        .map(|secret| Enrollment::for_secret(&secret, &user.username, &state.config().title)))
}

/// Confirms the secret set up on this session with `code` and turns TOTP
/// on. The user's other sessions end; this one is renewed. Returns the
/// recovery codes and the new CSRF token.
pub async fn confirm_setup(
    state: &AppState,
    user: &CurrentUser,
    ip: std::net::IpAddr,
    code: &str,
) -> Result<(Vec<String>, String), ApiError> {
    let Some(secret) = session::totp_setup(&user.session).await? else {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "no_totp_setup",
            "there is no two-factor setup to confirm; start it again (POST /api/v1/me/totp)",
        ));
    };
    if let Some(wait) = state.totp_throttle().begin(&user.username, ip) {
        return Err(login_error(LoginFailure::Throttled(wait)));
    }
    let st = state.clone();
    let (name, code) = (user.username.clone(), code.to_string());
    let codes = blocking(move || {
        st.accounts()
            .enable_totp(&name, &secret, &code, Utc::now().timestamp())
    })
    .await??;
    state.totp_throttle().succeed(&user.username, ip);
    let csrf = renew(state, user).await?;
    state.log(&format!("{} turned on two-factor login", user.username));
    state
        .audit(
            &user.username,
            "2fa on",
            crate::store::audit::Target::User,
            &user.username,
        )
        .await;
    Ok((codes, csrf))
}

/// Turns TOTP off after the current password; refused for admins when the
/// site requires it of them. Returns the renewed session's CSRF token.
pub async fn turn_off(
    state: &AppState,
    user: &CurrentUser,
    ip: std::net::IpAddr,
    current_password: String,
) -> Result<String, ApiError> {
    if user.role == Role::Admin && state.config().server.require_2fa_for_admins {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "totp_required",
            "this site requires two-factor login for admins ([server] require_2fa_for_admins), so it cannot be turned off",
        ));
    }
    ops::users::verify_current_password(state, user, ip, current_password).await?;
    let st = state.clone();
    let name = user.username.clone();
    blocking(move || st.accounts().disable_totp(&name)).await??;
    let csrf = renew(state, user).await?;
    state.log(&format!("{} turned off two-factor login", user.username));
    state
        .audit(
            &user.username,
            "2fa off",
            crate::store::audit::Target::User,
            &user.username,
        )
        .await;
    Ok(csrf)
}

/// Logs the user in again on their session after their epoch moved on.
async fn renew(state: &AppState, user: &CurrentUser) -> Result<String, ApiError> {
    let st = state.clone();
    let name = user.username.clone();
    let info = blocking(move || st.accounts().get(&name))
        .await??
        .ok_or_else(ApiError::unauthenticated)?;
    establish(&user.session, &info).await
}
