//! A post's history for the current user: who may see it (like drafts:
//! owners and admins), and restoring an old revision as a new one.

use crate::server::error::{ApiError, blocking};
use crate::server::ops::access::may_change;
use crate::server::session::CurrentUser;
use crate::server::state::AppState;
use crate::store::posts::StoredPost;

/// The post (or its deleted text) if `user` may see its history.
pub async fn owned(
    state: &AppState,
    user: &CurrentUser,
    slug: &str,
) -> Result<(StoredPost, bool), ApiError> {
    let (st, name) = (state.clone(), slug.to_string());
    let (post, deleted) = blocking(move || st.posts().current_or_deleted(&name)).await??;
    if may_change(user, &post.authors) {
        return Ok((post, deleted));
    }
    if post.draft || deleted {
        return Err(ApiError::not_found(format!(
            "there is no post `{}`",
            post.slug
        )));
    }
    state.log(&format!(
        "denied: {} may not read the history of post {}",
        user.username, post.slug
    ));
    Err(ApiError::forbidden(
        "only the post's authors and admins may see its history",
    ))
}

/// Restores `revision` of a post at `expected` after the permission
/// check; shared with the HTML history page.
pub async fn restore_post(
    state: &AppState,
    user: &CurrentUser,
    slug: String,
    revision: String,
    expected: String,
) -> Result<StoredPost, ApiError> {
    owned(state, user, &slug).await?;
    let (st, actor) = (state.clone(), user.username.clone());
    let post = blocking(move || st.posts().restore(&slug, &revision, &expected, &actor)).await??;
    state.log(&format!("{} restored post {}", user.username, post.slug));
    state
        .audit(
            &user.username,
            "restore",
            crate::store::audit::Target::Post,
            &post.slug,
        )
        .await;
    Ok(post)
}
