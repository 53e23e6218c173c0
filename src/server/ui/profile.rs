//! `/admin/profile`: display name, bio, picture, password, and the
//! two-factor section's state.

use axum::extract::{Form, Multipart, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;
use tower_sessions::Session;

use crate::server::error::ApiError;
use crate::server::extract::ClientIp;
use crate::server::session::CurrentUser;
use crate::server::state::AppState;
use crate::server::ui::media::checked_upload;
use crate::server::ui::page::{Page, check_form_csrf, error_fields, field_map, to_login};
use crate::server::{ops, session};
use crate::store::document::FieldError;

/// `GET /admin/profile`.
pub(crate) async fn profile_page(
    State(state): State<AppState>,
    user: Option<CurrentUser>,
) -> Result<Response, ApiError> {
    let Some(user) = user else {
        return Ok(to_login("/admin/profile"));
    };
    profile_with(&state, &user, Vec::new(), None, None).await
}

async fn profile_with(
    state: &AppState,
    user: &CurrentUser,
    errors: Vec<FieldError>,
    notice: Option<&str>,
    edited: Option<&ProfileForm>,
) -> Result<Response, ApiError> {
    let two_factor = View::of(state, user).await?;
    profile_full(state, user, errors, notice, edited, two_factor).await
}

/// The profile page with its two-factor section in a given state.
pub(crate) async fn profile_full(
    state: &AppState,
    user: &CurrentUser,
    errors: Vec<FieldError>,
    notice: Option<&str>,
    edited: Option<&ProfileForm>,
    two_factor: View,
) -> Result<Response, ApiError> {
    let mut profile = json!(ops::users::own_profile(state, user).await?);
    if let Some(edited) = edited {
        profile["display_name"] = json!(edited.display_name);
        profile["bio"] = json!(edited.bio);
    }
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok(Page::new("profile.html", "Your profile")
        .with("profile", profile)
        .with("two_factor", two_factor)
        .with("errors", field_map(&errors))
        .with("notice", notice)
        .status(status)
        .render(state, Some(user), &user.csrf))
}

#[derive(Debug, Deserialize)]
pub(crate) struct ProfileForm {
    display_name: String,
    bio: String,
    csrf_token: Option<String>,
}

/// `POST /admin/profile`: display name and bio.
pub(crate) async fn save_profile(
    State(state): State<AppState>,
    user: Option<CurrentUser>,
    session: Session,
    Form(form): Form<ProfileForm>,
) -> Result<Response, ApiError> {
    let Some(user) = user else {
        return Ok(to_login("/admin/profile"));
    };
    if let Err(err) = check_form_csrf(&session, form.csrf_token.as_deref()).await {
        return profile_with(&state, &user, error_fields(&err), None, Some(&form)).await;
    }
    let request = ops::users::ProfileRequest {
        display_name: Some(form.display_name.clone()),
        bio: Some(form.bio.clone()),
    };
    match ops::users::save_profile(&state, &user, request).await {
        Ok(_) => profile_with(&state, &user, Vec::new(), Some("Profile saved."), None).await,
        Err(err) if err.status.is_client_error() => {
            profile_with(&state, &user, error_fields(&err), None, Some(&form)).await
        }
        Err(err) => Err(err),
    }
}

/// `POST /admin/profile/avatar`: a new picture, at most 480×480.
pub(crate) async fn upload_avatar(
    State(state): State<AppState>,
    user: Option<CurrentUser>,
    session: Session,
    multipart: Multipart,
) -> Result<Response, ApiError> {
    let Some(user) = user else {
        return Ok(to_login("/admin/profile"));
    };
    let result = match checked_upload(&state, &session, multipart).await {
        Ok(form) => ops::media::store_avatar(&state, &user, form).await,
        Err(err) => Err(err),
    };
    match result {
        Ok(stored) => {
            state
                .preview()
                .rebuild_for(ops::media::avatar_files(&state, &user, &stored))
                .await;
            profile_with(&state, &user, Vec::new(), Some("Picture saved."), None).await
        }
        Err(err) if err.status.is_client_error() => {
            profile_with(
                &state,
                &user,
                vec![FieldError::new("avatar", err.message.clone())],
                None,
                None,
            )
            .await
        }
        Err(err) => Err(err),
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct PasswordForm {
    current_password: String,
    new_password: String,
    new_password_again: String,
    csrf_token: Option<String>,
}

/// `POST /admin/profile/password`: needs the current password; other sessions end.
pub(crate) async fn change_password(
    State(state): State<AppState>,
    user: Option<CurrentUser>,
    ClientIp(ip): ClientIp,
    session: Session,
    Form(form): Form<PasswordForm>,
) -> Result<Response, ApiError> {
    let Some(user) = user else {
        return Ok(to_login("/admin/profile"));
    };
    if let Err(err) = check_form_csrf(&session, form.csrf_token.as_deref()).await {
        return profile_with(&state, &user, error_fields(&err), None, None).await;
    }
    if form.new_password != form.new_password_again {
        return profile_with(
            &state,
            &user,
            vec![FieldError::new(
                "new_password",
                "the two new passwords differ",
            )],
            None,
            None,
        )
        .await;
    }
    let request = ops::users::PasswordRequest {
        current_password: form.current_password,
        new_password: form.new_password,
    };
    match ops::users::change_password(&state, &user, ip, request).await {
        Ok(()) => {
            // The session was renewed with a new CSRF token.
            let csrf = session::csrf_token(&session).await?;
            let renewed = CurrentUser { csrf, ..user };
            profile_with(
                &state,
                &renewed,
                Vec::new(),
                Some("Password changed. Your other sessions have ended."),
                None,
            )
            .await
        }
        Err(err) if err.status.is_client_error() => {
            let fields = err
                .fields
                .iter()
                .map(|f| {
                    if f.field == "password" {
                        FieldError::new("new_password", f.message.clone())
                    } else {
                        f.clone()
                    }
                })
                .collect();
            profile_with(&state, &user, fields, None, None).await
        }
        Err(err) => Err(err),
    }
}

/// What the profile page's two-factor section shows.
#[derive(Debug, Default, serde::Serialize)]
pub(super) struct View {
    /// TOTP is on.
    pub(super) on: bool,
    /// Unused recovery codes (0 when off).
    pub(super) recovery_left: usize,
    /// The site requires it of this user, who has not turned it on.
    pub(super) required: bool,
    /// Admins cannot turn it off on this site.
    pub(super) locked_on: bool,
    /// A setup in progress: the secret and the QR code.
    pub(super) setup: Option<Setup>,
    /// Recovery codes just made, shown this once.
    pub(super) recovery_codes: Option<Vec<String>>,
}

#[derive(Debug, serde::Serialize)]
pub(crate) struct Setup {
    secret: String,
    /// The secret in groups of four, for typing.
    grouped: String,
    uri: String,
    qr_svg: String,
}

impl View {
    /// The section as the user's account stands, with a setup in progress
    /// on this session shown again.
    pub(super) async fn of(state: &AppState, user: &CurrentUser) -> Result<Self, ApiError> {
        let st = state.clone();
        let name = user.username.clone();
        let left =
            crate::server::error::blocking(move || st.accounts().recovery_left(&name)).await??;
        let on = left.is_some();
        let setup = if on {
            None
        } else {
            ops::totp::pending_setup(state, user)
                .await?
                .map(Setup::from)
        };
        Ok(Self {
            on,
            recovery_left: left.unwrap_or(0),
            required: user.needs_totp_setup,
            locked_on: on && user.is_admin() && state.config().server.require_2fa_for_admins,
            setup,
            recovery_codes: None,
        })
    }
}

impl From<crate::accounts::totp::Enrollment> for Setup {
    fn from(enrollment: crate::accounts::totp::Enrollment) -> Self {
        let grouped = enrollment
            .secret
            .as_bytes()
            .chunks(4)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join(" ");
        Self {
            secret: enrollment.secret,
            grouped,
            uri: enrollment.uri,
            qr_svg: enrollment.qr_svg,
        }
    }
}
