//! Who may do what: the one place that decides whether the current user
//! may change something, or act as an admin. Every operation asks here.

use crate::accounts::Role;
use crate::server::error::ApiError;
use crate::server::session::CurrentUser;
use crate::server::state::AppState;

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

/// The one place that decides whether `user` may change something owned
/// by `authors` (a post's authors, an upload's owner). Admins may change
/// anything; authors only what is theirs. Things without an owner belong to
/// admins.
pub fn may_change(user: &CurrentUser, authors: &[String]) -> bool {
    user.role == Role::Admin || authors.contains(&user.username)
}
