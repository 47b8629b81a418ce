//! Headers every response carries: `x-content-type-options: nosniff` and
//! `referrer-policy: no-referrer` (unless a handler chose otherwise, like the preview's
//! own policy), and `strict-transport-security` when the listener terminates TLS.
//! The browser app and previews add their CSPs (with `frame-ancestors`) themselves.

use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

use super::AppState;

/// Adds the headers to the response.
pub async fn add(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.entry(header::X_CONTENT_TYPE_OPTIONS).or_insert(HeaderValue::from_static("nosniff"));
    headers.entry(header::REFERRER_POLICY).or_insert(HeaderValue::from_static("no-referrer"));
    if let Some(hsts) = &state.hsts {
        headers.insert(header::STRICT_TRANSPORT_SECURITY, hsts.clone());
    }
    response
}
