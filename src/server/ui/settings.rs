//! `/admin/settings` (admins): the site's title, description and posts
//! per page, written into config.toml with its comments kept.

use axum::extract::{Form, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;
use tower_sessions::Session;

use crate::server::error::ApiError;
use crate::server::ops;
use crate::server::session::CurrentUser;
use crate::server::state::AppState;
use crate::server::ui::page::{
    Page, check_form_csrf, error_fields, error_page, field_map, to_login,
};
use crate::store::document::FieldError;

/// `GET /admin/settings` (admins).
pub(crate) async fn settings_page(
    State(state): State<AppState>,
    user: Option<CurrentUser>,
) -> Response {
    let Some(user) = user else {
        return to_login("/admin/settings");
    };
    settings_with(&state, &user, Vec::new(), None, None)
}

fn settings_with(
    state: &AppState,
    user: &CurrentUser,
    errors: Vec<FieldError>,
    notice: Option<&str>,
    edited: Option<&SettingsForm>,
) -> Response {
    if !user.is_admin() {
        return error_page(
            state,
            Some(user),
            &user.csrf,
            &ApiError::forbidden("only admins may change site settings"),
        );
    }
    let current = crate::store::settings::SiteSettings::of(&state.config());
    let values = match edited {
        Some(form) => {
            json!({ "title": form.title, "description": form.description, "posts_per_page": form.posts_per_page })
        }
        None => json!(current),
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Page::new("settings.html", "Site settings")
        .with("settings", values)
        .with("errors", field_map(&errors))
        .with("notice", notice)
        .status(status)
        .render(state, Some(user), &user.csrf)
}

#[derive(Debug, Deserialize)]
pub(crate) struct SettingsForm {
    title: String,
    description: String,
    posts_per_page: String,
    csrf_token: Option<String>,
}

/// `POST /admin/settings`: written into config.toml, comments kept.
pub(crate) async fn save_settings(
    State(state): State<AppState>,
    user: Option<CurrentUser>,
    session: Session,
    Form(form): Form<SettingsForm>,
) -> Result<Response, ApiError> {
    let Some(user) = user else {
        return Ok(to_login("/admin/settings"));
    };
    if let Err(err) = check_form_csrf(&session, form.csrf_token.as_deref()).await {
        return Ok(settings_with(
            &state,
            &user,
            error_fields(&err),
            None,
            Some(&form),
        ));
    }
    let Ok(posts_per_page) = form.posts_per_page.trim().parse::<usize>() else {
        let errors = vec![FieldError::new(
            "posts_per_page",
            "write a whole number, such as 10",
        )];
        return Ok(settings_with(&state, &user, errors, None, Some(&form)));
    };
    let settings = crate::store::settings::SiteSettings {
        title: form.title.clone(),
        description: form.description.clone(),
        posts_per_page,
    };
    match ops::users::save_settings(&state, &user, settings).await {
        Ok(_) => Ok(settings_with(
            &state,
            &user,
            Vec::new(),
            Some("Settings saved; the preview is rebuilt."),
            None,
        )),
        Err(err) if err.status == StatusCode::FORBIDDEN => {
            Ok(error_page(&state, Some(&user), &user.csrf, &err))
        }
        Err(err) if err.status.is_client_error() => Ok(settings_with(
            &state,
            &user,
            error_fields(&err),
            None,
            Some(&form),
        )),
        Err(err) => Err(err),
    }
}
