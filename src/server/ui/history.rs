//! The HTML history of a post (who changed it, when, and what: a line
//! diff between any two revisions, and a restore button) and the admins'
//! audit page with the deleted posts. Plain forms and links; no JavaScript.

use axum::extract::{Form, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use similar::{ChangeTag, TextDiff};
use tower_sessions::Session;

use crate::server::error::{ApiError, blocking};
use crate::server::ops;
use crate::server::ops::history::{owned, restore_post};
use crate::server::session::CurrentUser;
use crate::server::state::AppState;
use crate::server::ui::page::{Page, check_form_csrf, error_page, to_login};

/// `?from=&to=`: the two revisions to compare.
#[derive(Debug, Default, Deserialize)]
pub(super) struct Compare {
    from: Option<String>,
    to: Option<String>,
    restored: Option<String>,
}

/// One line of a diff.
#[derive(Debug, Serialize)]
pub(crate) struct DiffLine {
    /// `eq`, `del` or `ins`.
    kind: &'static str,
    /// Line number in the old text, if the line is there.
    old: Option<usize>,
    /// Line number in the new text, if the line is there.
    new: Option<usize>,
    text: String,
}

/// The lines of `new` against `old`, with unchanged runs cut to three
/// lines of context around each change.
fn diff(old: &str, new: &str) -> Vec<DiffLine> {
    let text = TextDiff::from_lines(old, new);
    let mut lines = Vec::new();
    for group in text.grouped_ops(3) {
        for op in group {
            for change in text.iter_changes(&op) {
                let kind = match change.tag() {
                    ChangeTag::Equal => "eq",
                    ChangeTag::Delete => "del",
                    ChangeTag::Insert => "ins",
                };
                lines.push(DiffLine {
                    kind,
                    old: change.old_index().map(|i| i + 1),
                    new: change.new_index().map(|i| i + 1),
                    text: change.value().trim_end_matches('\n').to_string(),
                });
            }
        }
    }
    lines
}

/// The whole file of a revision, front matter included, as it was saved.
fn file_text(post: &crate::store::posts::StoredPost) -> String {
    format!(
        "title: {}\ndate: {}\ndraft: {}\ntags: {}\nsummary: {}\ncover: {}\n\n{}",
        post.title,
        post.date.as_deref().unwrap_or(""),
        post.draft,
        post.tags.join(", "),
        post.summary.as_deref().unwrap_or(""),
        post.cover.as_deref().unwrap_or(""),
        post.body
    )
}

/// `GET /admin/posts/{slug}/history`.
pub(super) async fn page(
    State(state): State<AppState>,
    user: Option<CurrentUser>,
    Path(slug): Path<String>,
    Query(compare): Query<Compare>,
) -> Response {
    let Some(user) = user else {
        return to_login(&format!("/admin/posts/{slug}/history"));
    };
    match build_page(&state, &user, slug, compare).await {
        Ok(page) => page.render(&state, Some(&user), &user.csrf),
        Err(err) => error_page(&state, Some(&user), &user.csrf, &err),
    }
}

async fn build_page(
    state: &AppState,
    user: &CurrentUser,
    slug: String,
    compare: Compare,
) -> Result<Page, ApiError> {
    let (current, deleted) = owned(state, user, &slug).await?;
    let st = state.clone();
    let name = slug.clone();
    let revisions = blocking(move || st.posts().history(&name)).await??;
    // By default: the newest change against the one before it.
    let to = compare
        .to
        .or_else(|| revisions.first().map(|r| r.revision.clone()));
    let from = compare
        .from
        .or_else(|| revisions.get(1).map(|r| r.revision.clone()));
    let mut page = Page::new("history.html", &format!("History of {}", current.title))
        .with("slug", &slug)
        .with("post_title", &current.title)
        .with("deleted", deleted)
        .with("current", &current.revision)
        .with("revisions", &revisions);
    if compare.restored.is_some() {
        page = page.with(
            "notice",
            "Restored: that revision is the current text again.",
        );
    }
    if let (Some(from), Some(to)) = (from, to) {
        let (st, name, a, b) = (state.clone(), slug.clone(), from.clone(), to.clone());
        let (old, new) = blocking(move || {
            let posts = st.posts();
            Ok::<_, crate::store::posts::PostError>((
                posts.revision(&name, &a)?.1,
                posts.revision(&name, &b)?.1,
            ))
        })
        .await??;
        let lines = diff(&file_text(&old), &file_text(&new));
        page = page.with("from", &from).with("to", &to).with("diff", lines);
    }
    Ok(page)
}

/// The restore form.
#[derive(Debug, Deserialize)]
pub(super) struct RestoreForm {
    csrf_token: Option<String>,
    revision: String,
    expected: String,
}

/// `POST /admin/posts/{slug}/restore`.
pub(super) async fn restore(
    State(state): State<AppState>,
    user: Option<CurrentUser>,
    session: Session,
    Path(slug): Path<String>,
    Form(form): Form<RestoreForm>,
) -> Response {
    let Some(user) = user else {
        return to_login(&format!("/admin/posts/{slug}/history"));
    };
    let result = match check_form_csrf(&session, form.csrf_token.as_deref()).await {
        Ok(()) => restore_post(&state, &user, slug.clone(), form.revision, form.expected).await,
        Err(err) => Err(err),
    };
    match result {
        Ok(post) => {
            state
                .preview()
                .rebuild_for(ops::posts::post_file(&post.slug))
                .await;
            Redirect::to(&format!("/admin/posts/{}/history?restored=1", post.slug)).into_response()
        }
        Err(err) => error_page(&state, Some(&user), &user.csrf, &err),
    }
}

/// `?before=`.
#[derive(Debug, Default, Deserialize)]
pub(super) struct AuditQuery {
    before: Option<u64>,
}

/// `GET /admin/audit`: for admins.
pub(super) async fn audit(
    State(state): State<AppState>,
    user: Option<CurrentUser>,
    Query(query): Query<AuditQuery>,
) -> Response {
    let Some(user) = user else {
        return to_login("/admin/audit");
    };
    if !user.is_admin() {
        let err = ApiError::forbidden("only admins may see the audit trail");
        return error_page(&state, Some(&user), &user.csrf, &err);
    }
    const PAGE: usize = 100;
    let st = state.clone();
    let loaded = blocking(move || {
        let entries = st
            .audit_trail()
            .page(PAGE, query.before)
            .map_err(ApiError::internal)?;
        let deleted = if query.before.is_none() {
            st.posts().deleted()?
        } else {
            Vec::new()
        };
        Ok::<_, ApiError>((entries, deleted))
    })
    .await;
    match loaded.and_then(|r| r) {
        Ok((entries, deleted)) => {
            let next = (entries.len() == PAGE)
                .then(|| entries.last().map(|e| e.id))
                .flatten();
            Page::new("audit.html", "Audit")
                .with("entries", &entries)
                .with("deleted", &deleted)
                .with("next", next)
                .render(&state, Some(&user), &user.csrf)
        }
        Err(err) => error_page(&state, Some(&user), &user.csrf, &err),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diffs_keep_context_around_changes_only() {
        let old = (1..=20).map(|n| format!("line {n}\n")).collect::<String>();
        let new = old.replace("line 10\n", "line ten\n");
        let lines = diff(&old, &new);
        let kinds: Vec<&str> = lines.iter().map(|l| l.kind).collect();
        assert_eq!(kinds, ["eq", "eq", "eq", "del", "ins", "eq", "eq", "eq"]);
        assert_eq!((lines[3].old, lines[3].new), (Some(10), None));
        assert_eq!(
            (lines[4].old, lines[4].new, lines[4].text.as_str()),
            (None, Some(10), "line ten")
        );
        assert!(diff("same\n", "same\n").is_empty());
    }
}
