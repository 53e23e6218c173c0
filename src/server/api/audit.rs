//! `GET /api/v1/audit`: the audit trail for admins, newest first, in pages.

use axum::Json;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use crate::server::error::{ApiError, blocking};
use crate::server::ops::access::require_admin;
use crate::server::session::CurrentUser;
use crate::server::state::AppState;
use crate::store::listing::{DEFAULT_LIMIT, MAX_LIMIT};

/// `?limit=&before=`.
#[derive(Debug, Deserialize)]
pub struct AuditQuery {
    /// Entries per page (default 50, at most 500).
    pub limit: Option<usize>,
    /// Only entries older than this id (the `next` of the previous page).
    pub before: Option<u64>,
}

/// `GET /api/v1/audit`: `{entries: [{id, at, actor, action, target, name}],
/// next}`; `next` is the `before` of the following page, `null` at the end.
pub async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    query: Result<Query<AuditQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    require_admin(&state, &user)?;
    let Ok(Query(query)) = query else {
        return Err(ApiError::bad_request(
            "invalid_query",
            "`limit` and `before` must be whole numbers",
        ));
    };
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    if limit == 0 || limit > MAX_LIMIT {
        return Err(ApiError::bad_request(
            "invalid_query",
            format!("`limit` must be between 1 and {MAX_LIMIT}"),
        ));
    }
    let st = state.clone();
    let entries = blocking(move || st.audit_trail().page(limit, query.before))
        .await?
        .map_err(ApiError::internal)?;
    let next = (entries.len() == limit)
        .then(|| entries.last().map(|e| e.id))
        .flatten()
        .filter(|id| *id > 1);
    Ok(Json(json!({ "entries": entries, "next": next })).into_response())
}
