//! `/api/v1/session`, `/register` and `/password-reset`: logging in and out,
//! registration and password resets, as JSON.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use tower_sessions::Session;

use crate::server::error::ApiError;
use crate::server::extract::{ClientIp, JsonBody};
use crate::server::ops::auth::{Credentials, check_login, login_error};
use crate::server::ops::users::user_json;
use crate::server::ops::users::{Registration, register_user};
use crate::server::session;
use crate::server::session::{CurrentUser, establish};
use crate::server::state::AppState;

/// `POST /api/v1/session`.
pub async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    session: Session,
    JsonBody(body): JsonBody<Credentials>,
) -> Result<Response, ApiError> {
    let user = check_login(&state, ip, &body.username, &body.password)
        .await?
        .map_err(login_error)?;
    if user.totp {
        // Nothing is usable until the code: the session is not logged in.
        let csrf = session::begin_second_step(&session, &user).await?;
        state.log(&format!(
            "password accepted for {}; waiting for the code",
            user.username
        ));
        return Ok(Json(json!({ "totp_required": true, "csrf_token": csrf })).into_response());
    }
    let csrf = establish(&session, &user).await?;
    state.log(&format!("login {}", user.username));
    Ok(Json(json!({ "user": user_json(&state, &user), "csrf_token": csrf })).into_response())
}

/// `DELETE /api/v1/session`: the session is deleted from the store.
pub async fn logout(user: CurrentUser) -> Result<StatusCode, ApiError> {
    user.session.flush().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/v1/register`: 201, logged in.
pub async fn register(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    session: Session,
    JsonBody(body): JsonBody<Registration>,
) -> Result<Response, ApiError> {
    let user = register_user(&state, ip, body).await?;
    let csrf = establish(&session, &user).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "user": user_json(&state, &user), "csrf_token": csrf })),
    )
        .into_response())
}

/// Body of a password reset.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reset {
    /// The token from the reset link.
    pub token: String,
    /// The new password.
    pub password: String,
}

/// `POST /api/v1/password-reset`: 204; the token is used up.
pub async fn password_reset(
    State(state): State<AppState>,
    JsonBody(body): JsonBody<Reset>,
) -> Result<StatusCode, ApiError> {
    let username = state
        .password_work(move |accounts| accounts.redeem_reset(&body.token, &body.password))
        .await??;
    crate::server::ops::users::reset_done(&state, &username).await;
    Ok(StatusCode::NO_CONTENT)
}
