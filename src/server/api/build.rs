//! `GET /api/v1/build`: how the last preview build went.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::server::session::CurrentUser;
use crate::server::state::AppState;

/// `GET /api/v1/build`: the latest preview build's result.
pub async fn status(State(state): State<AppState>, _user: CurrentUser) -> Response {
    axum::Json(json!(*state.preview().status())).into_response()
}
