//! The HTML side of two-factor login: the code step after the password,
//! and the profile page's section to turn TOTP on (QR code, secret,
//! confirmation, recovery codes) and off. Plain forms; no JavaScript needed.

use std::collections::HashMap;

use axum::extract::{Form, State};
use axum::http::{StatusCode, header};
use axum::response::Response;
use serde::Deserialize;
use tower_sessions::Session;

use crate::server::error::ApiError;
use crate::server::extract::ClientIp;
use crate::server::ops::totp::StepFailure;
use crate::server::session::CurrentUser;
use crate::server::state::AppState;
use crate::server::ui::editor::after_login;
use crate::server::ui::page::{Page, check_form_csrf, error_fields, safe_next, to_login};
use crate::server::ui::profile::{View, profile_full};
use crate::server::{ops, session};
use crate::store::document::FieldError;

/// The code step of a login, with `error` after a failed attempt.
pub(super) fn code_page(
    state: &AppState,
    csrf: &str,
    next: Option<&str>,
    resume: &HashMap<String, String>,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    Page::new("login_code.html", "Log in: code")
        .with("next", safe_next(next))
        .with("resume", resume)
        .with("error", error)
        .status(status)
        .render(state, None, csrf)
}

#[derive(Debug, Deserialize)]
pub(super) struct CodeForm {
    code: String,
    csrf_token: Option<String>,
    next: Option<String>,
    #[serde(flatten)]
    resume: HashMap<String, String>,
}

/// `POST /admin/login/code`: the second step of a form login.
pub(super) async fn code_submit(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    session: Session,
    Form(form): Form<CodeForm>,
) -> Result<Response, ApiError> {
    let csrf = session::csrf_token(&session).await?;
    let again = |message: &str, status| {
        code_page(
            &state,
            &csrf,
            form.next.as_deref(),
            &form.resume,
            Some(message),
            status,
        )
    };
    if let Err(err) = check_form_csrf(&session, form.csrf_token.as_deref()).await {
        return Ok(again(&err.message, err.status));
    }
    match ops::totp::second_step(&state, ip, &session, &form.code).await? {
        Ok(done) => Ok(after_login(
            &state,
            &session,
            &done.user,
            done.csrf,
            form.next.as_deref(),
            &form.resume,
        )
        .await),
        Err(StepFailure::NoPendingLogin) => {
            let login = Page::new("login.html", "Log in")
                .with(
                    "error",
                    "Your login waited too long for the code. Log in again.",
                )
                .with("next", safe_next(form.next.as_deref()))
                .with("resume", &form.resume)
                .status(StatusCode::UNAUTHORIZED)
                .render(&state, None, &csrf);
            Ok(login)
        }
        Err(StepFailure::Throttled(wait)) => {
            let mut response = again(
                &format!("Too many wrong codes. Try again in {wait} seconds."),
                StatusCode::TOO_MANY_REQUESTS,
            );
            if let Ok(value) = wait.to_string().parse() {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            Ok(response)
        }
        Err(StepFailure::WrongCode) => Ok(again(
            "The code is wrong or was already used. Type the code your app shows now, or one of your recovery codes.",
            StatusCode::UNAUTHORIZED,
        )),
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct CsrfOnly {
    csrf_token: Option<String>,
}

/// `POST /admin/profile/totp`: starts a setup and shows its QR code.
pub(super) async fn setup_submit(
    State(state): State<AppState>,
    user: Option<CurrentUser>,
    session: Session,
    Form(form): Form<CsrfOnly>,
) -> Result<Response, ApiError> {
    let Some(user) = user else {
        return Ok(to_login("/admin/profile"));
    };
    if let Err(err) = check_form_csrf(&session, form.csrf_token.as_deref()).await {
        return refused(&state, &user, &err).await;
    }
    match ops::totp::start_setup(&state, &user).await {
        Ok(_) => {
            let view = View::of(&state, &user).await?;
            profile_full(&state, &user, Vec::new(), None, None, view).await
        }
        Err(err) if err.status.is_client_error() => refused(&state, &user, &err).await,
        Err(err) => Err(err),
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct ConfirmForm {
    code: String,
    csrf_token: Option<String>,
}

/// `POST /admin/profile/totp/confirm`: turns TOTP on and shows the
/// recovery codes once.
pub(super) async fn confirm_submit(
    State(state): State<AppState>,
    user: Option<CurrentUser>,
    ClientIp(ip): ClientIp,
    session: Session,
    Form(form): Form<ConfirmForm>,
) -> Result<Response, ApiError> {
    let Some(user) = user else {
        return Ok(to_login("/admin/profile"));
    };
    if let Err(err) = check_form_csrf(&session, form.csrf_token.as_deref()).await {
        return refused(&state, &user, &err).await;
    }
    let done = ops::totp::confirm_setup(&state, &user, ip, &form.code).await;
    let (csrf, codes) = match done {
        Ok((codes, csrf)) => (Ok(csrf), Some(codes)),
        Err(err) => (Err(err), None),
    };
    let notice = "Two-factor login is on. Your other sessions have ended.";
    after_change(&state, user, csrf, codes, notice, "code").await
}

/// The profile page after turning TOTP on or off: renewed with the new
/// CSRF token, `notice` and any new recovery codes; or the refusal shown
/// at `field` (a server failure stays an error).
async fn after_change(
    state: &AppState,
    user: CurrentUser,
    csrf: Result<String, ApiError>,
    recovery_codes: Option<Vec<String>>,
    notice: &str,
    field: &str,
) -> Result<Response, ApiError> {
    match csrf {
        Ok(csrf) => {
            let renewed = CurrentUser {
                csrf,
                needs_totp_setup: false,
                ..user
            };
            let mut view = View::of(state, &renewed).await?;
            view.recovery_codes = recovery_codes;
            profile_full(state, &renewed, Vec::new(), Some(notice), None, view).await
        }
        Err(err) if err.status.is_client_error() => {
            let mut fields = error_fields(&err);
            for error in &mut fields {
                if matches!(error.field.as_str(), "form" | "current_password" | "code") {
                    error.field = field.into();
                }
            }
            let view = View::of(state, &user).await?;
            profile_full(state, &user, fields, None, None, view).await
        }
        Err(err) => Err(err),
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct OffForm {
    current_password: String,
    csrf_token: Option<String>,
}

/// `POST /admin/profile/totp/off`: turns TOTP off after the password.
pub(super) async fn off_submit(
    State(state): State<AppState>,
    user: Option<CurrentUser>,
    ClientIp(ip): ClientIp,
    session: Session,
    Form(form): Form<OffForm>,
) -> Result<Response, ApiError> {
    let Some(user) = user else {
        return Ok(to_login("/admin/profile"));
    };
    if let Err(err) = check_form_csrf(&session, form.csrf_token.as_deref()).await {
        return refused(&state, &user, &err).await;
    }
    let csrf = ops::totp::turn_off(&state, &user, ip, form.current_password).await;
    let notice = "Two-factor login is off. Your other sessions have ended.";
    after_change(&state, user, csrf, None, notice, "totp_password").await
}

/// The profile page again with `err` at the top.
async fn refused(
    state: &AppState,
    user: &CurrentUser,
    err: &ApiError,
) -> Result<Response, ApiError> {
    let view = View::of(state, user).await?;
    let fields = vec![FieldError::new("form", err.message.clone())];
    let mut response = profile_full(state, user, fields, None, None, view).await?;
    *response.status_mut() = err.status;
    Ok(response)
}
