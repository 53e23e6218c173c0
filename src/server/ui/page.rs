//! What every admin page shares: `Page` (template, status, context and
//! the layout's user and CSRF token), error and message pages, the pager,
//! form CSRF checks and the redirect to the login.

use std::collections::HashMap;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde_json::{Value, json};
use tera::Context;
use tower_sessions::Session;

use crate::server::error::ApiError;
use crate::server::session;
use crate::server::session::CurrentUser;
use crate::server::state::AppState;
use crate::store::document::FieldError;
use crate::store::listing::Paged;

const CSS: &str = include_str!("static/admin.css");
const JS: &str = include_str!("static/admin.js");

/// One page: template, status and context.
pub(crate) struct Page {
    template: &'static str,
    status: StatusCode,
    context: Context,
}

impl Page {
    pub(crate) fn new(template: &'static str, title: &str) -> Self {
        let mut context = Context::new();
        context.insert("title", title);
        Self {
            template,
            status: StatusCode::OK,
            context,
        }
    }

    pub(crate) fn with(mut self, key: &'static str, value: impl serde::Serialize) -> Self {
        self.context.insert(key, &value);
        self
    }

    pub(crate) fn status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    /// Renders for `user` (nav, CSRF token) or an anonymous `csrf`.
    pub(crate) fn render(
        mut self,
        state: &AppState,
        user: Option<&CurrentUser>,
        csrf: &str,
    ) -> Response {
        let config = state.config();
        self.context.insert("site_title", &config.title);
        self.context.insert("csrf", csrf);
        self.context
            .insert("registration", &config.server.allow_registration);
        if let Some(user) = user {
            self.context.insert(
                "user",
                &json!({ "username": user.username, "role": user.role, "is_admin": user.is_admin() }),
            );
        }
        match state.ui().render(self.template, &self.context) {
            Ok(html) => (self.status, Html(html)).into_response(),
            Err(err) => {
                let error =
                    ApiError::internal(format!("admin template {}: {err:?}", self.template));
                let mut response = (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    Html("<!doctype html><title>Error</title><p>Something went wrong on the server; nothing was changed.".to_string()),
                )
                    .into_response();
                if let Some(cause) = error.internal {
                    response
                        .extensions_mut()
                        .insert(crate::server::error::InternalCause(cause));
                }
                response
            }
        }
    }
}

/// Links to the first, previous, next and last pages of a list shown at
/// `path` with the query `params` (kept, so filters survive paging), and
/// where this page stands: what `pager.html` draws.
pub(crate) fn pager<T>(path: &str, params: &impl serde::Serialize, page: &Paged<T>) -> Value {
    let mut fields: Vec<(String, String)> = match json!(params) {
        Value::Object(map) => map
            .into_iter()
            .filter(|(key, _)| key != "page")
            .filter_map(|(key, value)| Some((key, value.as_str()?.trim().to_string())))
            .filter(|(_, value)| !value.is_empty())
            .collect(),
        _ => Vec::new(),
    };
    fields.sort();
    let link = |number: usize| -> Option<String> {
        (number >= 1 && number <= page.pages && number != page.page).then(|| {
            let mut fields = fields.clone();
            if number > 1 {
                fields.push(("page".into(), number.to_string()));
            }
            match serde_urlencoded::to_string(&fields) {
                Ok(query) if !query.is_empty() => format!("{path}?{query}"),
                _ => path.to_string(),
            }
        })
    };
    json!({
        "total": page.total,
        "page": page.page,
        "pages": page.pages,
        "first": link(1),
        "previous": link(page.page.saturating_sub(1)),
        "next": link(page.page + 1),
        "last": link(page.pages),
    })
}

/// A message page (errors, confirmations) for a failed action.
pub(crate) fn error_page(
    state: &AppState,
    user: Option<&CurrentUser>,
    csrf: &str,
    err: &ApiError,
) -> Response {
    let mut response = Page::new("message.html", "Something went wrong")
        .with("message", &err.message)
        .status(err.status)
        .render(state, user, csrf);
    if let Some(cause) = &err.internal {
        response
            .extensions_mut()
            .insert(crate::server::error::InternalCause(cause.clone()));
    }
    response
}

/// Field problems by field name, as the templates look them up.
pub(crate) fn field_map(fields: &[FieldError]) -> HashMap<String, String> {
    let mut map: HashMap<String, String> = HashMap::new();
    for field in fields {
        map.entry(field.field.clone())
            .and_modify(|m| {
                m.push_str("; ");
                m.push_str(&field.message);
            })
            .or_insert_with(|| field.message.clone());
    }
    map
}

/// Checks the hidden CSRF field of a form against the session.
pub(crate) async fn check_form_csrf(session: &Session, sent: Option<&str>) -> Result<(), ApiError> {
    let stored = session::stored_csrf(session).await?;
    match (stored, sent) {
        (Some(stored), Some(sent)) if crate::accounts::constant_time_eq(sent, &stored) => Ok(()),
        _ => Err(ApiError::forbidden(
            "this form has expired (missing or wrong CSRF token); go back, reload the page and try again",
        )),
    }
}

/// A redirect to the login form that comes back to `next`.
pub(crate) fn to_login(next: &str) -> Response {
    Redirect::to(&format!(
        "/admin/login?next={}",
        crate::build::images::encode_url_path(next)
    ))
    .into_response()
}

/// A local path to go to after login; anything else becomes `/admin/`.
pub(crate) fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.starts_with("/\\")
                && n.len() <= 2048
                && n.bytes().all(|b| (0x21..=0x7E).contains(&b) && b != b'\\') =>
        {
            n.to_string()
        }
        _ => "/admin/".into(),
    }
}

/// `GET /admin/static/admin.css`.
pub(crate) async fn css() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], CSS).into_response()
}

/// `GET /admin/static/admin.js`.
pub(crate) async fn js() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        JS,
    )
        .into_response()
}

/// Any other `/admin` address: a 404 page in the admin layout.
pub(crate) async fn not_found(
    State(state): State<AppState>,
    user: Option<CurrentUser>,
) -> Response {
    let csrf = user.as_ref().map(|u| u.csrf.clone()).unwrap_or_default();
    error_page(
        &state,
        user.as_ref(),
        &csrf,
        &ApiError::not_found("there is no such page in the admin"),
    )
}

/// The field problems of `err`, or its message as a form-wide one.
pub(crate) fn error_fields(err: &ApiError) -> Vec<FieldError> {
    if err.fields.is_empty() {
        vec![FieldError::new("form", err.message.clone())]
    } else {
        err.fields.clone()
    }
}

/// A form that carries only the CSRF token (logout, deletes).
#[derive(Debug, serde::Deserialize)]
pub(crate) struct CsrfForm {
    pub(crate) csrf_token: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_must_be_local() {
        assert_eq!(safe_next(Some("/admin/media")), "/admin/media");
        assert_eq!(safe_next(Some("//evil.example/")), "/admin/");
        assert_eq!(safe_next(Some("https://evil.example/")), "/admin/");
        assert_eq!(safe_next(None), "/admin/");
        assert_eq!(safe_next(Some("/\t/evil.example")), "/admin/");
        assert_eq!(safe_next(Some("/\\evil.example")), "/admin/");
        assert_eq!(safe_next(Some("/a b")), "/admin/");
    }
}
