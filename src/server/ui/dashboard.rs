//! `/admin/`: one page of the posts the user may see, searchable,
//! filterable and sortable, with the last preview build's errors.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::server::error::{ApiError, blocking};
use crate::server::ops;
use crate::server::ops::access::may_change;
use crate::server::session::CurrentUser;
use crate::server::state::AppState;
use crate::server::ui::page::{Page, pager, to_login};

/// `GET /admin/?q=&state=&tag=&author=&sort=&order=&page=`.
#[derive(Debug, Default, Deserialize)]
pub struct DashboardQuery {
    #[serde(flatten)]
    list: ops::posts::ListParams,
    deleted: Option<String>,
}

/// `GET /admin/`: one page of the posts the user may see, filtered,
/// sorted and searchable, with their state.
pub async fn dashboard(
    State(state): State<AppState>,
    user: Option<CurrentUser>,
    query: Result<Query<DashboardQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Some(user) = user else {
        return Ok(to_login("/admin/"));
    };
    let Query(query) = query.unwrap_or_default();
    let params = query.list;
    let (page, error) = match params.query() {
        Ok(list) => (ops::posts::list_page(&state, &user, list).await?, None),
        Err(err) => {
            let fallback = ops::posts::list_page(&state, &user, Default::default()).await?;
            (fallback, Some(err.to_string()))
        }
    };
    let now = chrono::Utc::now();
    let rows: Vec<Value> = page
        .items
        .iter()
        .map(|listed| {
            let p = &listed.post;
            json!({
                "slug": p.slug,
                "title": p.title,
                "date": p.date.as_deref().map(|d| d.get(..10).unwrap_or(d)),
                "state": listed.state(now).as_str(),
                "author": p.author,
                "editable": may_change(&user, &p.authors),
                "problem": p.problem,
            })
        })
        .collect();
    let pager = pager("/admin/", &params, &page);
    let filtered = [&params.q, &params.state, &params.tag, &params.author]
        .iter()
        .any(|v| v.as_deref().is_some_and(|v| !v.trim().is_empty()));
    let st = state.clone();
    let authors: Vec<String> = blocking(move || st.accounts().list())
        .await??
        .into_iter()
        .map(|account| account.username)
        .collect();
    let status = state.preview().status();
    let code = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    Ok(Page::new("dashboard.html", "Posts")
        .with(
            "notice",
            query
                .deleted
                .is_some()
                .then_some("Post deleted. It is kept in .quire/trash/posts/."),
        )
        .with("posts", rows)
        .with("filter", &params)
        .with("filtered", filtered)
        .with("filter_error", error)
        .with("authors", authors)
        .with("pager", pager)
        .with("build", &*status)
        .status(code)
        .render(&state, Some(&user), &user.csrf))
}
