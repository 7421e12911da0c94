//! `ApiError`: user errors as 4xx with the project's diagnostics (span, line/column, rendered
//! text), internal errors as an opaque 500 whose detail travels in a response extension to
//! the logging middleware (logged with the request id, never sent). `ApiJson` is the JSON
//! extractor whose rejections use the same shape.

use crate::diagnostic::Diagnostic;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value as Json, json};

/// The detail of an internal error, for the log only.
#[derive(Debug, Clone)]
pub struct InternalDetail(pub String);

/// An error a handler returns.
#[derive(Debug)]
pub enum ApiError {
    /// The rule (or other source text) has errors: 422 with every diagnostic.
    Diagnostics {
        source: String,
        diagnostics: Vec<Diagnostic>,
    },
    /// The request is malformed (bad JSON, missing field, bad parameter): 400.
    BadRequest(String),
    /// 413: the body is over the limit.
    TooLarge(String),
    /// 404.
    NotFound(String),
    /// 409 (a rule name already in use).
    Conflict(String),
    /// 401: a bearer token is required and was missing or wrong.
    Unauthorized,
    /// 500: logged with the request id, opaque to the client.
    Internal(String),
}

impl ApiError {
    pub fn internal(detail: impl Into<String>) -> Self {
        ApiError::Internal(detail.into())
    }

    pub fn diagnostics(source: &str, diagnostics: Vec<Diagnostic>) -> Self {
        ApiError::Diagnostics {
            source: source.to_string(),
            diagnostics,
        }
    }

    fn simple(code: &str, message: &str) -> Json {
        json!({ "errors": [{ "code": code, "severity": "error", "message": message, "labels": [], "hints": [] }] })
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, body) = match &self {
            ApiError::Diagnostics {
                source,
                diagnostics,
            } => (
                StatusCode::UNPROCESSABLE_ENTITY,
                json!({ "errors": diagnostics.iter().map(|d| d.to_json(source)).collect::<Vec<_>>() }),
            ),
            ApiError::BadRequest(m) => (StatusCode::BAD_REQUEST, Self::simple("bad_request", m)),
            ApiError::TooLarge(m) => (StatusCode::PAYLOAD_TOO_LARGE, Self::simple("too_large", m)),
            ApiError::NotFound(m) => (StatusCode::NOT_FOUND, Self::simple("not_found", m)),
            ApiError::Conflict(m) => (StatusCode::CONFLICT, Self::simple("conflict", m)),
            ApiError::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                Self::simple(
                    "unauthorized",
                    "this route needs `Authorization: Bearer <token>` (the server's --token)",
                ),
            ),
            ApiError::Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                Self::simple(
                    "internal",
                    "internal error; the server log has the detail under this request's x-request-id",
                ),
            ),
        };
        let mut response = (status, axum::Json(body)).into_response();
        if let ApiError::Internal(detail) = self {
            response.extensions_mut().insert(InternalDetail(detail));
        }
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer"),
            );
        }
        response
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> Self {
        ApiError::Internal(e.to_string())
    }
}

/// `axum::Json` whose rejections are [`ApiError::BadRequest`] in the API's error shape.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    axum::Json<T>: FromRequest<S, Rejection = JsonRejection>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(ApiJson(v)),
            Err(JsonRejection::BytesRejection(e))
                if e.status() == StatusCode::PAYLOAD_TOO_LARGE =>
            {
                Err(ApiError::TooLarge(format!(
                    "request body too large: {}",
                    e.body_text()
                )))
            }
            Err(e) => Err(ApiError::BadRequest(e.body_text())),
        }
    }
}

impl<T: serde::Serialize> IntoResponse for ApiJson<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}
