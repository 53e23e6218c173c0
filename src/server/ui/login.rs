//! `/admin/login`, `/logout`, `/register` and `/reset`: the forms for
//! logging in (with the second step handed to `two_factor`), registering and
//! setting a password from a reset link.

use std::collections::HashMap;

use axum::extract::{Form, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::json;
use tower_sessions::Session;

use crate::server::error::ApiError;
use crate::server::extract::ClientIp;
use crate::server::ops::auth::LoginFailure;
use crate::server::session::{CurrentUser, establish};
use crate::server::state::AppState;
use crate::server::ui::editor::after_login;
use crate::server::ui::page::{CsrfForm, Page, check_form_csrf, error_page, field_map, safe_next};
use crate::server::{ops, session};

#[derive(Debug, Deserialize)]
pub(crate) struct NextQuery {
    next: Option<String>,
}

/// `GET /admin/login`.
pub(crate) async fn login_page(
    State(state): State<AppState>,
    user: Option<CurrentUser>,
    session: Session,
    Query(query): Query<NextQuery>,
) -> Result<Response, ApiError> {
    if user.is_some() {
        return Ok(Redirect::to(&safe_next(query.next.as_deref())).into_response());
    }
    let csrf = session::csrf_token(&session).await?;
    Ok(Page::new("login.html", "Log in")
        .with("next", safe_next(query.next.as_deref()))
        .render(&state, None, &csrf))
}

#[derive(Debug, Deserialize)]
pub(crate) struct LoginForm {
    pub(crate) username: String,
    pub(crate) password: String,
    pub(crate) csrf_token: Option<String>,
    pub(crate) next: Option<String>,
    #[serde(flatten)]
    pub(crate) resume: HashMap<String, String>,
}

/// `POST /admin/login`: the password step (the code step follows for two-factor users).
pub(crate) async fn login_submit(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    session: Session,
    Form(form): Form<LoginForm>,
) -> Result<Response, ApiError> {
    let csrf = session::csrf_token(&session).await?;
    if let Err(err) = check_form_csrf(&session, form.csrf_token.as_deref()).await {
        return Ok(login_again(&state, &csrf, &form, &err.message, err.status));
    }
    match ops::auth::check_login(&state, ip, &form.username, &form.password).await? {
        Ok(user) if user.totp => {
            // The password was right; the session logs in after the code.
            let csrf = session::begin_second_step(&session, &user).await?;
            state.log(&format!(
                "password accepted for {}; waiting for the code",
                user.username
            ));
            Ok(super::two_factor::code_page(
                &state,
                &csrf,
                form.next.as_deref(),
                &form.resume,
                None,
                StatusCode::OK,
            ))
        }
        Ok(user) => {
            let csrf = establish(&session, &user).await?;
            state.log(&format!("login {}", user.username));
            Ok(after_login(
                &state,
                &session,
                &user,
                csrf,
                form.next.as_deref(),
                &form.resume,
            )
            .await)
        }
        Err(LoginFailure::Throttled(wait)) => {
            let message = format!("Too many failed logins. Try again in {wait} seconds.");
            let mut response = login_again(
                &state,
                &csrf,
                &form,
                &message,
                StatusCode::TOO_MANY_REQUESTS,
            );
            if let Ok(value) = wait.to_string().parse() {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            Ok(response)
        }
        Err(LoginFailure::Rejected) => Ok(login_again(
            &state,
            &csrf,
            &form,
            "The username or password is wrong.",
            StatusCode::UNAUTHORIZED,
        )),
    }
}

/// `POST /admin/logout`.
pub(crate) async fn logout(
    State(state): State<AppState>,
    session: Session,
    user: Option<CurrentUser>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, ApiError> {
    let csrf = session::csrf_token(&session).await?;
    if let Err(err) = check_form_csrf(&session, form.csrf_token.as_deref()).await {
        return Ok(error_page(&state, user.as_ref(), &csrf, &err));
    }
    session.flush().await?;
    Ok(Redirect::to("/admin/login").into_response())
}

/// `GET /admin/register` (404 unless registration is open).
pub(crate) async fn register_page(
    State(state): State<AppState>,
    session: Session,
) -> Result<Response, ApiError> {
    let csrf = session::csrf_token(&session).await?;
    if !state.config().server.allow_registration {
        return Ok(error_page(
            &state,
            None,
            &csrf,
            &ApiError::not_found("registration is not open on this site"),
        ));
    }
    Ok(Page::new("register.html", "Create an account").render(&state, None, &csrf))
}

#[derive(Debug, Deserialize)]
pub(crate) struct RegisterForm {
    username: String,
    password: String,
    csrf_token: Option<String>,
}

/// `POST /admin/register`: a new author, logged in.
pub(crate) async fn register_submit(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    session: Session,
    Form(form): Form<RegisterForm>,
) -> Result<Response, ApiError> {
    let csrf = session::csrf_token(&session).await?;
    if let Err(err) = check_form_csrf(&session, form.csrf_token.as_deref()).await {
        return Ok(error_page(&state, None, &csrf, &err));
    }
    let registration = ops::users::Registration {
        username: form.username.clone(),
        password: form.password,
    };
    match ops::users::register_user(&state, ip, registration).await {
        Ok(user) => {
            establish(&session, &user).await?;
            Ok(Redirect::to("/admin/").into_response())
        }
        Err(err) if err.status == StatusCode::NOT_FOUND => {
            Ok(error_page(&state, None, &csrf, &err))
        }
        Err(err) if err.status.is_client_error() => {
            Ok(Page::new("register.html", "Create an account")
                .with("username", &form.username)
                .with("errors", field_map(&err.fields))
                .with(
                    "error",
                    if err.fields.is_empty() {
                        err.message.clone()
                    } else {
                        String::new()
                    },
                )
                .status(err.status)
                .render(&state, None, &csrf))
        }
        Err(err) => Err(err),
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct TokenQuery {
    token: Option<String>,
}

/// `GET /admin/reset?token=`: the form for a new password.
pub(crate) async fn reset_page(
    State(state): State<AppState>,
    session: Session,
    Query(query): Query<TokenQuery>,
) -> Result<Response, ApiError> {
    let csrf = session::csrf_token(&session).await?;
    Ok(Page::new("reset.html", "Choose a new password")
        .with("token", query.token.unwrap_or_default())
        .render(&state, None, &csrf))
}

#[derive(Debug, Deserialize)]
pub(crate) struct ResetForm {
    token: String,
    password: String,
    password_again: String,
    csrf_token: Option<String>,
}

/// `POST /admin/reset`: sets the password once per token.
pub(crate) async fn reset_submit(
    State(state): State<AppState>,
    session: Session,
    Form(form): Form<ResetForm>,
) -> Result<Response, ApiError> {
    let csrf = session::csrf_token(&session).await?;
    if let Err(err) = check_form_csrf(&session, form.csrf_token.as_deref()).await {
        return Ok(error_page(&state, None, &csrf, &err));
    }
    let again = |message: &str, status| {
        Page::new("reset.html", "Choose a new password")
            .with("token", &form.token)
            .with("errors", HashMap::from([("password", message)]))
            .status(status)
            .render(&state, None, &csrf)
    };
    if form.password != form.password_again {
        return Ok(again(
            "the two passwords differ",
            StatusCode::UNPROCESSABLE_ENTITY,
        ));
    }
    let (token, password) = (form.token.clone(), form.password.clone());
    match state
        .password_work(move |accounts| accounts.redeem_reset(&token, &password))
        .await?
    {
        Ok(username) => {
            ops::users::reset_done(&state, &username).await;
            Ok(Page::new("message.html", "Password changed")
                .with(
                    "message",
                    "Your password is changed. Log in with the new one.",
                )
                .with("link", json!({ "href": "/admin/login", "text": "Log in" }))
                .render(&state, None, &csrf))
        }
        Err(err) => {
            let err = ApiError::from(err);
            Ok(again(&err.message, err.status))
        }
    }
}

/// The login form again, with `message`, keeping what was typed.
fn login_again(
    state: &AppState,
    csrf: &str,
    form: &LoginForm,
    message: &str,
    status: StatusCode,
) -> Response {
    Page::new("login.html", "Log in")
        .with("error", message)
        .with("username", &form.username)
        .with("next", safe_next(form.next.as_deref()))
        .with("resume", &form.resume)
        .status(status)
        .render(state, None, csrf)
}
