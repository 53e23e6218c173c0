//! Sessions (tower-sessions, in memory) and the logged-in user.
//!
//! A session holds the username, the user's session epoch at login, the
//! login and last-seen times and a CSRF token. It stops being valid when
//! the user is removed or disabled, when their epoch moved on (password or
//! role changed), after the idle timeout or after the absolute timeout;
//! an invalid session is deleted from the store on sight.

use std::sync::{Arc, Mutex};

use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::http::request::Parts;
use chrono::Utc;
use tower_sessions::Session;

use crate::accounts::{Role, UserInfo};
use crate::server::error::ApiError;
use crate::server::state::AppState;

/// Whether `path` (with `method`) is open to an admin who has yet to turn
/// on two-factor login: setting it up, reading who they are, logging out.
pub fn open_before_totp_setup(method: &axum::http::Method, path: &str) -> bool {
    use axum::http::Method;
    matches!(
        (method, path),
        (&Method::GET, "/api/v1/me" | "/admin/profile")
            | (&Method::POST, "/api/v1/me/totp" | "/api/v1/me/totp/confirm")
            | (&Method::DELETE, "/api/v1/session")
            | (
                &Method::POST,
                "/admin/logout" | "/admin/profile/totp" | "/admin/profile/totp/confirm"
            )
    ) || path.starts_with("/admin/static/")
}

const USER: &str = "user";
const EPOCH: &str = "epoch";
const LOGIN_AT: &str = "login_at";
const SEEN: &str = "seen";
const CSRF: &str = "csrf";
const PENDING_USER: &str = "pending_user";
const PENDING_EPOCH: &str = "pending_epoch";
const PENDING_AT: &str = "pending_at";
const TOTP_SETUP: &str = "totp_setup";

/// Seconds a password-checked login waits for its second step.
pub const SECOND_STEP_SECS: i64 = 300;

/// The name on the request log line, filled in once a user is known.
#[derive(Debug, Clone, Default)]
pub struct LogUser(pub Arc<Mutex<Option<String>>>);

impl LogUser {
    /// Records who made the request.
    pub fn set(&self, name: &str) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = Some(name.to_string());
    }

    /// Who made the request, or `-`.
    pub fn get(&self) -> String {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .unwrap_or_else(|| "-".into())
    }
}

/// The logged-in user of a request; extracting it fails with 401.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    /// Username.
    pub username: String,
    /// Role.
    pub role: Role,
    /// The session's CSRF token.
    pub csrf: String,
    /// The session, for logout.
    pub session: Session,
    /// An admin who must turn on two-factor login before anything else
    /// (`[server] require_2fa_for_admins`).
    pub needs_totp_setup: bool,
}

impl CurrentUser {
    /// True for admins.
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }
}

async fn session_of(parts: &mut Parts, state: &AppState) -> Result<Session, ApiError> {
    Session::from_request_parts(parts, state)
        .await
        .map_err(|(_, message)| ApiError::internal(format!("session layer: {message}")))
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let session = session_of(parts, state).await?;
        let user = current(&session, state)
            .await?
            .ok_or_else(ApiError::unauthenticated)?;
        if let Some(log) = parts.extensions.get::<LogUser>() {
            log.set(&user.username);
        }
        Ok(user)
    }
}

impl OptionalFromRequestParts<AppState> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Option<Self>, ApiError> {
        let session = session_of(parts, state).await?;
        let user = current(&session, state).await?;
        if let (Some(user), Some(log)) = (&user, parts.extensions.get::<LogUser>()) {
            log.set(&user.username);
        }
        Ok(user)
    }
}

/// The valid user of `session`, if any; ends sessions that are no longer valid.
pub(super) async fn current(
    session: &Session,
    state: &AppState,
) -> Result<Option<CurrentUser>, ApiError> {
    let Some(username) = session.get::<String>(USER).await? else {
        return Ok(None);
    };
    let epoch = session.get::<u64>(EPOCH).await?.unwrap_or(u64::MAX);
    let login_at = session.get::<i64>(LOGIN_AT).await?.unwrap_or(0);
    let seen = session.get::<i64>(SEEN).await?.unwrap_or(0);
    let csrf = session.get::<String>(CSRF).await?.unwrap_or_default();
    let config = state.config();
    let now = Utc::now().timestamp();
    let secs = |d: std::time::Duration| i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
    let lookup = {
        let state = state.clone();
        let name = username.clone();
        super::error::blocking(move || state.accounts().get(&name)).await?
    };
    let user = lookup?;
    let facts = SessionFacts {
        epoch,
        login_at,
        seen,
        has_csrf: !csrf.is_empty(),
    };
    let valid = user.as_ref().is_some_and(|user| {
        facts.valid_for(
            user,
            now,
            secs(config.server.session_idle),
            secs(config.server.session_absolute),
        )
    });
    let Some(user) = user.filter(|_| valid) else {
        session.flush().await?;
        return Ok(None);
    };
    if now - seen >= 30 {
        // Counts as activity: the store's idle expiry restarts too.
        session.insert(SEEN, now).await?;
    }
    let needs_totp_setup =
        config.server.require_2fa_for_admins && user.role == Role::Admin && !user.totp;
    Ok(Some(CurrentUser {
        username: user.username,
        role: user.role,
        csrf,
        session: session.clone(),
        needs_totp_setup,
    }))
}

/// What a session remembers about its login.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct SessionFacts {
    epoch: u64,
    login_at: i64,
    seen: i64,
    has_csrf: bool,
}

impl SessionFacts {
    /// True while the user is enabled and unchanged since login, the session
    /// was used within `idle` seconds and began within `absolute` seconds.
    fn valid_for(&self, user: &UserInfo, now: i64, idle: i64, absolute: i64) -> bool {
        !user.disabled
            && user.epoch == self.epoch
            && self.has_csrf
            && now - self.login_at < absolute
            && now - self.seen < idle
    }
}

/// Logs `user` in on `session`: a new session id (so an id from before
/// login is useless after it) and a new CSRF token, which is returned.
pub async fn establish(session: &Session, user: &UserInfo) -> Result<String, ApiError> {
    session.cycle_id().await?;
    session.clear().await;
    let csrf = crate::accounts::random_token();
    let now = Utc::now().timestamp();
    session.insert(USER, &user.username).await?;
    session.insert(EPOCH, user.epoch).await?;
    session.insert(LOGIN_AT, now).await?;
    session.insert(SEEN, now).await?;
    session.insert(CSRF, &csrf).await?;
    Ok(csrf)
}

/// Starts a login that waits for its second step: the password was right,
/// but the session is not logged in (no handler sees a user) until
/// [`second_step_user`] and [`establish`]. A new id and CSRF token, as at
/// login; returns the token.
pub async fn begin_second_step(session: &Session, user: &UserInfo) -> Result<String, ApiError> {
    session.cycle_id().await?;
    session.clear().await;
    let csrf = crate::accounts::random_token();
    session.insert(PENDING_USER, &user.username).await?;
    session.insert(PENDING_EPOCH, user.epoch).await?;
    session.insert(PENDING_AT, Utc::now().timestamp()).await?;
    session.insert(CSRF, &csrf).await?;
    Ok(csrf)
}

/// The user whose login waits for its second step on `session`: still
/// enabled, unchanged and with TOTP on, within [`SECOND_STEP_SECS`] of the
/// password. Anything else ends the pending login.
pub async fn second_step_user(
    session: &Session,
    state: &AppState,
) -> Result<Option<UserInfo>, ApiError> {
    let Some(username) = session.get::<String>(PENDING_USER).await? else {
        return Ok(None);
    };
    let epoch = session.get::<u64>(PENDING_EPOCH).await?.unwrap_or(u64::MAX);
    let at = session.get::<i64>(PENDING_AT).await?.unwrap_or(0);
    let lookup = {
        let state = state.clone();
        super::error::blocking(move || state.accounts().get(&username)).await?
    };
    let fresh = Utc::now().timestamp() - at < SECOND_STEP_SECS;
    match lookup? {
        Some(user) if fresh && user.epoch == epoch && !user.disabled && user.totp => Ok(Some(user)),
        _ => {
            forget_second_step(session).await?;
            Ok(None)
        }
    }
}

/// Ends a pending second step (expired, or the user changed).
async fn forget_second_step(session: &Session) -> Result<(), ApiError> {
    session.remove_value(PENDING_USER).await?;
    session.remove_value(PENDING_EPOCH).await?;
    session.remove_value(PENDING_AT).await?;
    Ok(())
}

/// Remembers the secret being set up by the logged-in user until they
/// confirm it with a code (the credentials file only ever holds confirmed
/// secrets).
pub async fn remember_totp_setup(session: &Session, secret: &str) -> Result<(), ApiError> {
    session.insert(TOTP_SETUP, secret).await?;
    Ok(())
}

/// The secret being set up on this session, if any.
pub async fn totp_setup(session: &Session) -> Result<Option<String>, ApiError> {
    Ok(session.get::<String>(TOTP_SETUP).await?)
}

/// `response` with the renewed session's CSRF token in `X-CSRF-Token`, for
/// scripts: after a change that ended the user's other sessions (a new
/// password, two-factor login on or off).
pub fn with_csrf_header(
    mut response: axum::response::Response,
    csrf: &str,
) -> axum::response::Response {
    if let Ok(value) = axum::http::HeaderValue::from_str(csrf) {
        response.headers_mut().insert("x-csrf-token", value);
    }
    response
}

/// The CSRF token of a session, logged in or not; creates one for
/// anonymous sessions (the login and registration forms need it).
pub async fn csrf_token(session: &Session) -> Result<String, ApiError> {
    if let Some(token) = session.get::<String>(CSRF).await? {
        return Ok(token);
    }
    let token = crate::accounts::random_token();
    session.insert(CSRF, &token).await?;
    Ok(token)
}

/// The CSRF token stored in `session`, without creating one.
pub async fn stored_csrf(session: &Session) -> Result<Option<String>, ApiError> {
    Ok(session.get::<String>(CSRF).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_end_on_idle_absolute_epoch_and_disable() {
        let user = UserInfo {
            username: "bob".into(),
            role: Role::Author,
            disabled: false,
            created: String::new(),
            epoch: 3,
            totp: false,
        };
        let facts = SessionFacts {
            epoch: 3,
            login_at: 1_000,
            seen: 1_000,
            has_csrf: true,
        };
        let (idle, absolute) = (30 * 60, 12 * 3600);
        assert!(facts.valid_for(&user, 1_000 + idle - 1, idle, absolute));
        assert!(
            !facts.valid_for(&user, 1_000 + idle, idle, absolute),
            "idle timeout"
        );
        let active = SessionFacts {
            seen: 1_000 + absolute - 10,
            ..facts
        };
        assert!(active.valid_for(&user, 1_000 + absolute - 1, idle, absolute));
        assert!(
            !active.valid_for(&user, 1_000 + absolute, idle, absolute),
            "absolute timeout"
        );
        let changed = UserInfo {
            epoch: 4,
            ..user.clone()
        };
        assert!(
            !facts.valid_for(&changed, 1_001, idle, absolute),
            "password or role changed"
        );
        let disabled = UserInfo {
            disabled: true,
            ..user.clone()
        };
        assert!(!facts.valid_for(&disabled, 1_001, idle, absolute));
        let no_token = SessionFacts {
            has_csrf: false,
            ..facts
        };
        assert!(!no_token.valid_for(&user, 1_001, idle, absolute));
    }
}
