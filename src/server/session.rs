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

use super::error::ApiError;
use super::state::AppState;
use crate::accounts::{Role, UserInfo};

const USER: &str = "user";
const EPOCH: &str = "epoch";
const LOGIN_AT: &str = "login_at";
const SEEN: &str = "seen";
const CSRF: &str = "csrf";

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
async fn current(session: &Session, state: &AppState) -> Result<Option<CurrentUser>, ApiError> {
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
    Ok(Some(CurrentUser {
        username: user.username,
        role: user.role,
        csrf,
        session: session.clone(),
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
