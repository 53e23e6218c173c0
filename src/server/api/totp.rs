//! `/api/v1/session/totp` and `/api/v1/me/totp`: the second login step,
//! and turning two-factor login on (with a confirmed code) and off.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use tower_sessions::Session;

use crate::accounts::SecondFactor;
use crate::server::error::ApiError;
use crate::server::extract::{ClientIp, JsonBody};
use crate::server::ops::totp::{confirm_setup, second_step, start_setup, turn_off};
use crate::server::ops::users::user_json;
use crate::server::session::{CurrentUser, with_csrf_header};
use crate::server::state::AppState;

/// Body of a second login step or a confirmation.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CodeBody {
    /// Six digits from the app, or a recovery code.
    pub code: String,
}

/// `POST /api/v1/session/totp`: the second login step.
pub async fn login_step(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    session: Session,
    JsonBody(body): JsonBody<CodeBody>,
) -> Result<Response, ApiError> {
    let done = second_step(&state, ip, &session, &body.code)
        .await?
        .map_err(|failure| failure.to_api())?;
    let left = match done.factor {
        SecondFactor::Code => None,
        SecondFactor::Recovery(left) => Some(left),
    };
    Ok(Json(json!({
        "user": user_json(&state, &done.user),
        "csrf_token": done.csrf,
        "recovery_codes_left": left,
    }))
    .into_response())
}

/// `POST /api/v1/me/totp`: a new secret to set up.
pub async fn setup(State(state): State<AppState>, user: CurrentUser) -> Result<Response, ApiError> {
    let enrollment = start_setup(&state, &user).await?;
    Ok(Json(json!({
        "secret": enrollment.secret,
        "otpauth_uri": enrollment.uri,
        "qr_svg": enrollment.qr_svg,
    }))
    .into_response())
}

/// `POST /api/v1/me/totp/confirm`: turns TOTP on.
pub async fn confirm(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientIp(ip): ClientIp,
    JsonBody(body): JsonBody<CodeBody>,
) -> Result<Response, ApiError> {
    let (codes, csrf) = confirm_setup(&state, &user, ip, &body.code).await?;
    Ok(with_csrf_header(
        Json(json!({ "recovery_codes": codes, "csrf_token": csrf })).into_response(),
        &csrf,
    ))
}

/// Body of turning TOTP off.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TurnOff {
    /// The user's password, again.
    pub current_password: String,
}

/// `DELETE /api/v1/me/totp`: 204; other sessions end.
pub async fn disable(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientIp(ip): ClientIp,
    JsonBody(body): JsonBody<TurnOff>,
) -> Result<Response, ApiError> {
    let csrf = turn_off(&state, &user, ip, body.current_password).await?;
    Ok(with_csrf_header(
        StatusCode::NO_CONTENT.into_response(),
        &csrf,
    ))
}
