//! Request extractors whose failures use the error envelope: JSON bodies
//! (415 without `Content-Type: application/json`, 400 when malformed, 422
//! for wrong fields, 413 over the limit), `If-Match`, and the client address.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use serde::de::DeserializeOwned;

use crate::server::error::ApiError;
use crate::server::state::AppState;

/// Largest JSON body accepted.
pub const JSON_LIMIT: usize = 2 * 1024 * 1024;

/// A JSON request body.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
        if !is_json {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the request body as JSON with `Content-Type: application/json`",
            ));
        }
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|rejection| {
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::new(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "too_large",
                        "the request body is larger than the limit of 2 MiB",
                    )
                } else {
                    ApiError::bad_request("unreadable_body", "the request body could not be read")
                }
            })?;
        let mut de = serde_json::Deserializer::from_slice(&bytes);
        let value: T = serde_path_to_error::deserialize(&mut de).map_err(|err| {
            let path = err.path().to_string();
            let inner = err.into_inner();
            if inner.is_syntax() || inner.is_eof() {
                ApiError::bad_request(
                    "malformed_json",
                    format!("the request body is not valid JSON: {inner}"),
                )
            } else {
                let field = if path == "." {
                    "body".to_string()
                } else {
                    path
                };
                ApiError::invalid(vec![crate::store::document::FieldError::new(
                    &field,
                    inner.to_string(),
                )])
            }
        })?;
        de.end().map_err(|err| {
            ApiError::bad_request(
                "malformed_json",
                format!("the request body is not valid JSON: {err}"),
            )
        })?;
        Ok(Self(value))
    }
}

/// The revision in `If-Match` (quotes and a `W/` prefix removed), if any.
pub fn if_match(parts: &axum::http::HeaderMap) -> Option<String> {
    let value = parts.get(header::IF_MATCH)?.to_str().ok()?.trim();
    let value = value.strip_prefix("W/").unwrap_or(value);
    Some(value.trim_matches('"').to_string())
}

/// The client's address, honouring `X-Forwarded-For` from trusted proxies.
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::from([127, 0, 0, 1]), |c| c.0.ip());
        let forwarded = parts
            .headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok());
        Ok(Self(state.client_ip(peer, forwarded)))
    }
}

/// A query string read into `T`; one that cannot be read is
/// `400 invalid_query` in the envelope.
#[derive(Debug)]
pub struct QueryParams<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for QueryParams<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(Self(value)),
            Err(_) => Err(ApiError::bad_request(
                "invalid_query",
                "the query string cannot be read: give each parameter once, as text",
            )),
        }
    }
}

/// The JSON answer of a list endpoint: the rows under `key`, and where the
/// page stands in the whole list.
pub fn page_json<T>(
    key: &str,
    rows: Vec<serde_json::Value>,
    page: &crate::store::listing::Paged<T>,
) -> serde_json::Value {
    serde_json::json!({
        key: rows,
        "total": page.total,
        "page": page.page,
        "pages": page.pages,
        "limit": page.limit,
    })
}
