//! The one error type of every handler, and the JSON envelope
//! `{"error": {"code", "message"}}` it becomes.
//!
//! Server-side failures (5xx) are logged with their cause and answered with
//! a fixed message, so nothing internal (paths, OS errors) reaches a client.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::accounts::AccountError;
use crate::store::document::FieldError;
use crate::store::media::MediaError;
use crate::store::posts::PostError;
use crate::store::profiles::ProfileError;
use crate::store::settings::SettingsError;

/// A failed request: status, stable code, human message, and optional
/// details (field errors, the current version on a conflict).
#[derive(Debug)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable machine-readable code.
    pub code: &'static str,
    /// What happened and what to do.
    pub message: String,
    /// Problems per field (422).
    pub fields: Vec<FieldError>,
    /// Extra members of the error object.
    pub details: Option<serde_json::Value>,
    /// Seconds until a throttled client may try again.
    pub retry_after: Option<u64>,
    /// The cause of a 5xx, for the log only.
    pub internal: Option<String>,
}

impl ApiError {
    /// An error with `status`, `code` and `message`.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            fields: Vec::new(),
            details: None,
            retry_after: None,
            internal: None,
        }
    }

    /// 401: no valid session.
    pub fn unauthenticated() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "you are not logged in, or your session has ended; log in again",
        )
    }

    /// 403: logged in but not allowed.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    /// 404.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// 400.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// 422 with per-field problems.
    pub fn invalid(fields: Vec<FieldError>) -> Self {
        let message = fields
            .iter()
            .map(|f| format!("{}: {}", f.field, f.message))
            .collect::<Vec<_>>()
            .join("; ");
        Self {
            fields,
            ..Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", message)
        }
    }

    /// 500 with a generic message; `cause` goes to the log only.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        Self {
            internal: Some(cause.to_string()),
            ..Self::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "something went wrong on the server; nothing was changed. The server log has the details",
            )
        }
    }

    /// Adds members to the error object.
    pub fn with_details(mut self, details: serde_json::Value) -> Self {
        self.details = Some(details);
        self
    }

    /// The JSON body.
    pub fn body(&self) -> serde_json::Value {
        let mut error = json!({ "code": self.code, "message": self.message });
        if !self.fields.is_empty() {
            error["fields"] = json!(self.fields);
        }
        if let Some(serde_json::Value::Object(details)) = &self.details {
            for (key, value) in details {
                error[key] = value.clone();
            }
        }
        json!({ "error": error })
    }
}

/// The cause of a 5xx, carried to the request log in the response.
#[derive(Debug, Clone)]
pub struct InternalCause(pub String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, axum::Json(self.body())).into_response();
        if let Some(seconds) = self.retry_after {
            response.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from_str(&seconds.to_string())
                    .unwrap_or(HeaderValue::from_static("60")),
            );
        }
        if let Some(cause) = self.internal {
            response.extensions_mut().insert(InternalCause(cause));
        }
        response
    }
}

impl From<PostError> for ApiError {
    fn from(err: PostError) -> Self {
        let message = err.to_string();
        match err {
            PostError::InvalidSlug(_) => Self::bad_request("invalid_slug", message),
            PostError::NotFound(_) | PostError::NoRevision(_) => Self::not_found(message),
            PostError::SlugTaken(_) => Self::new(StatusCode::CONFLICT, "slug_taken", message),
            PostError::Invalid(fields) => Self::invalid(fields),
            PostError::Stale { current } => Self::new(
                StatusCode::PRECONDITION_FAILED,
                "stale_revision",
                "the post was changed since you opened it; nothing was overwritten. The current version is in `current`; merge your text into it and save again",
            )
            .with_details(json!({ "current": current })),
            PostError::Io { .. } => Self::internal(message),
        }
    }
}

impl From<crate::store::listing::ListError> for ApiError {
    fn from(err: crate::store::listing::ListError) -> Self {
        Self::bad_request("invalid_query", err.to_string())
    }
}

impl From<MediaError> for ApiError {
    fn from(err: MediaError) -> Self {
        let message = err.to_string();
        match err {
            MediaError::TooLarge { .. } => {
                Self::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large", message)
            }
            MediaError::Unsupported(_) => Self::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_type",
                message,
            ),
            MediaError::Undecodable(_) => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "undecodable_image",
                message,
            ),
            MediaError::InvalidPath(_) => Self::bad_request("invalid_path", message),
            MediaError::NotFound(_) => Self::not_found(message),
            MediaError::InUse { .. } => Self::new(StatusCode::CONFLICT, "media_in_use", message),
            MediaError::Io { .. } => Self::internal(message),
        }
    }
}

impl From<AccountError> for ApiError {
    fn from(err: AccountError) -> Self {
        let message = err.to_string();
        match err {
            AccountError::InvalidUsername(_) => {
                Self::invalid(vec![FieldError::new("username", message)])
            }
            AccountError::InvalidRole(_) => Self::invalid(vec![FieldError::new("role", message)]),
            AccountError::UnknownUser(_) => Self::not_found(message),
            AccountError::UserExists(_) => Self::new(StatusCode::CONFLICT, "user_exists", message),
            AccountError::Password(problem) => Self {
                code: problem.code(),
                ..Self::invalid(vec![FieldError::new("password", message)])
            },
            AccountError::LastAdmin(_) => Self::new(StatusCode::CONFLICT, "last_admin", message),
            AccountError::InvalidToken => Self::bad_request("invalid_token", message),
            AccountError::WrongCode => Self {
                code: "wrong_code",
                ..Self::invalid(vec![FieldError::new("code", message)])
            },
            AccountError::TotpAlreadyOn => Self::new(StatusCode::CONFLICT, "totp_on", message),
            AccountError::Io { .. } | AccountError::Corrupt { .. } => Self::internal(message),
        }
    }
}

impl From<ProfileError> for ApiError {
    fn from(err: ProfileError) -> Self {
        match err {
            ProfileError::Invalid(fields) => Self::invalid(fields),
            ProfileError::Io { .. } => Self::internal(err),
        }
    }
}

impl From<SettingsError> for ApiError {
    fn from(err: SettingsError) -> Self {
        match err {
            SettingsError::Invalid(fields) => Self::invalid(fields),
            SettingsError::Io(_) => Self::internal(err),
        }
    }
}

impl From<tower_sessions::session::Error> for ApiError {
    fn from(err: tower_sessions::session::Error) -> Self {
        Self::internal(format!("session store: {err}"))
    }
}

impl From<tokio::task::JoinError> for ApiError {
    fn from(err: tokio::task::JoinError) -> Self {
        Self::internal(format!("background task: {err}"))
    }
}

/// Runs slow or blocking work (hashing, disk, decoding) off the async
/// runtime's workers.
pub async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ApiError> {
    Ok(tokio::task::spawn_blocking(work).await?)
}
