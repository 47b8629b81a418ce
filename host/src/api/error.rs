//! The one shape every client-facing error takes:
//! `{ "error": { "type", "message", "request_id" } }` with the right status.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::request_id::current_request_id;
use crate::runtime::{CallError, Failure, Refusal, Reported};
use crate::tenancy::limits::OverLimit;
use crate::tenancy::{AuthError, TenancyError};

/// An error answered to a client.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    kind: &'static str,
    message: String,
    retry_after: Option<u64>,
}

impl ApiError {
    /// An error with an explicit status, type and message.
    pub fn new(status: StatusCode, kind: &'static str, message: impl Into<String>) -> Self {
        Self { status, kind, message: message.into(), retry_after: None }
    }

    /// 401 `unauthorized`.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    /// 403 `forbidden`.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    /// 400 `invalid_request`.
    pub fn invalid_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", message)
    }

    /// 404 `not_found`.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// 503 `overloaded` with `retry-after`: the server is at one of its limits.
    pub fn overloaded(message: impl Into<String>) -> Self {
        Self { retry_after: Some(1), ..Self::new(StatusCode::SERVICE_UNAVAILABLE, "overloaded", message) }
    }

    /// 408 `request_timeout`: the body stopped arriving.
    pub fn body_timeout() -> Self {
        Self::new(StatusCode::REQUEST_TIMEOUT, "request_timeout", "the request body stopped arriving")
    }

    /// 405 `method_not_allowed`: the route exists, not with this method.
    pub fn method_not_allowed() -> Self {
        Self::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "this route does not take this method")
    }

    /// The status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl From<CallError> for ApiError {
    /// A plugin's own report keeps its meaning (invalid input is the caller's 400); a
    /// plugin that broke (trap, limit) is the server's 500; no free slot is 503.
    fn from(error: CallError) -> Self {
        let (status, kind) = match &error.failure {
            Failure::Reported(Reported::InvalidRequest(_)) => (StatusCode::BAD_REQUEST, "invalid_request"),
            Failure::Reported(Reported::Denied(_)) => (StatusCode::FORBIDDEN, "plugin_denied"),
            Failure::Reported(Reported::Refused { .. }) => (StatusCode::UNPROCESSABLE_ENTITY, "model_refused"),
            Failure::Reported(Reported::Upstream { status, .. }) => (upstream_status(*status), "upstream_error"),
            Failure::Egress(Refusal::Denied(_)) => (StatusCode::FORBIDDEN, "egress_denied"),
            Failure::Egress(Refusal::RequestTooLarge { .. }) => {
                (StatusCode::PAYLOAD_TOO_LARGE, "egress_request_too_large")
            }
            Failure::Egress(Refusal::ResponseTooLarge { .. }) => {
                (StatusCode::BAD_GATEWAY, "upstream_response_too_large")
            }
            Failure::Reported(Reported::Internal(_)) => (StatusCode::INTERNAL_SERVER_ERROR, "plugin_error"),
            Failure::Busy => (StatusCode::SERVICE_UNAVAILABLE, "busy"),
            Failure::Limit(_) | Failure::WallClock { .. } => {
                (StatusCode::INTERNAL_SERVER_ERROR, "plugin_limit_exceeded")
            }
            Failure::StackOverflow | Failure::Panic(_) | Failure::Trap(_) => {
                (StatusCode::INTERNAL_SERVER_ERROR, "plugin_crashed")
            }
            Failure::OutputTooLarge { .. } => (StatusCode::INTERNAL_SERVER_ERROR, "plugin_output_too_large"),
        };
        Self::new(status, kind, error.to_string())
    }
}

/// The status to answer for an upstream's error status: the client's own mistakes and
/// rate limits keep theirs (a caller's own key may be wrong), everything else is 502.
fn upstream_status(status: u16) -> StatusCode {
    match status {
        400 | 401 | 403 | 404 | 413 | 422 | 429 | 504 => {
            StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY)
        }
        _ => StatusCode::BAD_GATEWAY,
    }
}

/// The body of every error: `{ "error": { "type", "message", "request_id" } }`.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// What went wrong.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Machine-readable kind, e.g. `invalid_request`, `not_found`, `rate_limited`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Explanation for people.
    pub message: String,
    /// The request's `x-request-id`.
    pub request_id: Option<String>,
}

impl ApiError {
    /// The JSON body: `{ "error": { "type", "message", "request_id" } }`.
    pub fn json(&self) -> serde_json::Value {
        let detail =
            ErrorDetail { kind: self.kind.to_owned(), message: self.message.clone(), request_id: current_request_id() };
        serde_json::to_value(ErrorBody { error: detail }).unwrap_or_default()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(self.json())).into_response();
        let parsed = || (self.status == StatusCode::TOO_MANY_REQUESTS).then(|| retry_after(&self.message)).flatten();
        if let Some(seconds) = self.retry_after.or_else(parsed) {
            response.headers_mut().insert(axum::http::header::RETRY_AFTER, seconds.into());
        }
        response
    }
}

impl From<OverLimit> for ApiError {
    /// 429 `rate_limited` with `retry-after`.
    fn from(over: OverLimit) -> Self {
        let retry_after = Some(over.retry_after_secs);
        Self { retry_after, ..Self::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", over.to_string()) }
    }
}

impl From<AuthError> for ApiError {
    fn from(error: AuthError) -> Self {
        Self::unauthorized(error.to_string())
    }
}

impl From<TenancyError> for ApiError {
    fn from(error: TenancyError) -> Self {
        let (status, kind) = match &error {
            TenancyError::Denied(_) => (StatusCode::FORBIDDEN, "forbidden"),
            TenancyError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            TenancyError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            TenancyError::Invalid(_) => (StatusCode::BAD_REQUEST, "invalid_request"),
            TenancyError::Internal(message) => {
                tracing::error!(error = %message, "control plane failure");
                return Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "the control plane failed; see the server log",
                );
            }
        };
        Self::new(status, kind, error.to_string())
    }
}

/// The seconds of an upstream's `retry-after`, as providers quote it in their message
/// (`... (retry after 7 s)`).
fn retry_after(message: &str) -> Option<u64> {
    let (_, rest) = message.rsplit_once("(retry after ")?;
    rest.strip_suffix(" s)")?.parse().ok()
}
