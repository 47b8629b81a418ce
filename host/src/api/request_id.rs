//! A request id for every request: taken from a well-formed `x-request-id` header or
//! generated, echoed in the response header and in every error body; the access log
//! line of each request; and its span, when traces are exported ([`crate::telemetry`]).

use axum::extract::{MatchedPath, Request};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

/// The header carrying the id.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

tokio::task_local! {
    static REQUEST_ID: String;
}

/// The id of the request being served by this task, if any.
pub fn current_request_id() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

/// Middleware: assigns the id and serves the request inside its scope.
pub async fn assign(request: Request, next: Next) -> Response {
    let id = request
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|value| value.to_str().ok())
        .filter(|value| is_well_formed(value))
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned);
    let (method, uri) = (request.method().clone(), request.uri().clone());
    let route = request.extensions().get::<MatchedPath>().map_or("unmatched", MatchedPath::as_str);
    let span = crate::telemetry::request_span(route, method.as_str(), &id);
    let started = std::time::Instant::now();
    let mut response = REQUEST_ID.scope(id.clone(), next.run(request)).instrument(span.clone()).await;
    span.record("http.response.status_code", response.status().as_u16());
    // The access log: never a body; the URI's query may carry what a client should not
    // have put there, which the log's redaction masks.
    tracing::info!(
        request_id = %id,
        %method,
        %uri,
        status = response.status().as_u16(),
        micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
        "request"
    );
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    response
}

/// A client's id is kept only if it is short and plain (it ends up in logs).
fn is_well_formed(id: &str) -> bool {
    (1..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}
