//! `/admin/users` (admins): one page of accounts, new users, roles,
//! disabling, reset links and removal.

use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use serde_json::Value;
use tower_sessions::Session;

use crate::accounts::Role;
use crate::server::error::{ApiError, blocking};
use crate::server::ops;
use crate::server::session::CurrentUser;
use crate::server::state::AppState;
use crate::server::ui::page::{
    Page, check_form_csrf, error_fields, error_page, field_map, pager, to_login,
};
use crate::store::document::FieldError;

/// `GET /admin/users?q=&role=&page=` (admins).
pub(crate) async fn users_page(
    State(state): State<AppState>,
    user: Option<CurrentUser>,
    query: Result<Query<ops::users::UserListParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Some(user) = user else {
        return Ok(to_login("/admin/users"));
    };
    let Query(params) = query.unwrap_or_default();
    users_listing(&state, &user, Vec::new(), None, None, &params).await
}

async fn users_with(
    state: &AppState,
    user: &CurrentUser,
    errors: Vec<FieldError>,
    notice: Option<&str>,
    reset_link: Option<&str>,
) -> Result<Response, ApiError> {
    users_listing(state, user, errors, notice, reset_link, &Default::default()).await
}

/// The users page: one page of accounts and the form for a new one.
async fn users_listing(
    state: &AppState,
    user: &CurrentUser,
    mut errors: Vec<FieldError>,
    notice: Option<&str>,
    reset_link: Option<&str>,
    params: &ops::users::UserListParams,
) -> Result<Response, ApiError> {
    if !user.is_admin() {
        return Ok(error_page(
            state,
            Some(user),
            &user.csrf,
            &ApiError::forbidden("only admins may manage users"),
        ));
    }
    let query = match params.query() {
        Ok(query) => query,
        Err(err) => {
            errors.push(FieldError::new("form", err.to_string()));
            Default::default()
        }
    };
    let page = ops::users::list_page(state, user, query).await?;
    let pager = pager("/admin/users", params, &page);
    let rows: Vec<Value> = page
        .items
        .iter()
        .map(|u| ops::users::user_json(state, u))
        .collect();
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok(Page::new("users.html", "Users")
        .with("users", rows)
        .with("pager", pager)
        .with("filter", params)
        .with("errors", field_map(&errors))
        .with("notice", notice)
        .with("reset_link", reset_link)
        .status(status)
        .render(state, Some(user), &user.csrf))
}

#[derive(Debug, Deserialize)]
pub(crate) struct NewUserForm {
    username: String,
    role: String,
    password: String,
    csrf_token: Option<String>,
}

/// `POST /admin/users`: a new account and its profile.
pub(crate) async fn create_user(
    State(state): State<AppState>,
    user: Option<CurrentUser>,
    session: Session,
    Form(form): Form<NewUserForm>,
) -> Result<Response, ApiError> {
    let Some(user) = user else {
        return Ok(to_login("/admin/users"));
    };
    let result = async {
        check_form_csrf(&session, form.csrf_token.as_deref()).await?;
        let role: Role = form.role.parse()?;
        ops::users::create_user(
            &state,
            &user,
            ops::users::NewUser {
                username: form.username.clone(),
                role,
                password: form.password.clone(),
            },
        )
        .await
    }
    .await;
    match result {
        Ok(()) => {
            users_with(
                &state,
                &user,
                Vec::new(),
                Some(&format!("Created {}.", form.username)),
                None,
            )
            .await
        }
        Err(err) if err.status == StatusCode::FORBIDDEN => {
            Ok(error_page(&state, Some(&user), &user.csrf, &err))
        }
        Err(err) if err.status.is_client_error() => {
            users_with(&state, &user, error_fields(&err), None, None).await
        }
        Err(err) => Err(err),
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct UserActionForm {
    action: String,
    role: Option<String>,
    csrf_token: Option<String>,
}

/// `POST /admin/users/{name}`: role, disable/enable, reset link or removal.
pub(crate) async fn change_user(
    State(state): State<AppState>,
    user: Option<CurrentUser>,
    session: Session,
    Path(name): Path<String>,
    Form(form): Form<UserActionForm>,
) -> Result<Response, ApiError> {
    let Some(user) = user else {
        return Ok(to_login("/admin/users"));
    };
    let result: Result<(String, Option<String>), ApiError> = async {
        check_form_csrf(&session, form.csrf_token.as_deref()).await?;
        match form.action.as_str() {
            "role" => {
                let role: Role = form.role.as_deref().unwrap_or("").parse()?;
                let patch = ops::users::UserPatch {
                    role: Some(role),
                    ..Default::default()
                };
                ops::users::patch_user(&state, &user, name.clone(), patch).await?;
                Ok((format!("{name} is now {role}."), None))
            }
            "disable" | "enable" => {
                let disabled = form.action == "disable";
                let patch = ops::users::UserPatch {
                    disabled: Some(disabled),
                    ..Default::default()
                };
                ops::users::patch_user(&state, &user, name.clone(), patch).await?;
                Ok((
                    format!(
                        "{name} is {}.",
                        if disabled {
                            "disabled; their sessions have ended"
                        } else {
                            "enabled"
                        }
                    ),
                    None,
                ))
            }
            "remove" => {
                ops::users::remove_user(&state, &user, name.clone()).await?;
                Ok((
                    format!("Removed {name}; their posts and profile are kept."),
                    None,
                ))
            }
            "reset" => {
                if !user.is_admin() {
                    return Err(ApiError::forbidden("only admins may manage users"));
                }
                let st = state.clone();
                let target = name.clone();
                let lifetime = state.config().server.reset_link;
                let token =
                    blocking(move || st.accounts().create_reset(&target, lifetime)).await??;
                let link = format!("{}/admin/reset?token={token}", state.config().server.url);
                state.log(&format!("{} made a reset link for {name}", user.username));
                state
                    .audit(
                        &user.username,
                        "reset link",
                        crate::store::audit::Target::User,
                        &name,
                    )
                    .await;
                Ok((
                    format!("Reset link for {name} (works once; send it privately):"),
                    Some(link),
                ))
            }
            _ => Err(ApiError::bad_request("unknown_action", "unknown action")),
        }
    }
    .await;
    match result {
        Ok((notice, link)) => {
            users_with(&state, &user, Vec::new(), Some(&notice), link.as_deref()).await
        }
        Err(err) if err.status == StatusCode::FORBIDDEN => {
            Ok(error_page(&state, Some(&user), &user.csrf, &err))
        }
        Err(err) if err.status.is_client_error() => {
            users_with(&state, &user, error_fields(&err), None, None).await
        }
        Err(err) => Err(err),
    }
}
