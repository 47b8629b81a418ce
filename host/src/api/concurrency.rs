//! Caps on work in progress: requests and streams per instance, streams per tenant on
//! the screenshot API. A request over a cap is refused at once (503 `overloaded` for
//! the instance, 429 `rate_limited` for a tenant, both with `retry-after`) instead of
//! queueing behind work it cannot overtake. A slot is held until the response body
//! ends, so a stream counts for as long as it runs, and is freed when the client
//! leaves.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body::{Body as HttpBody, Frame, SizeHint};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::AppState;
use super::error::ApiError;
use super::request_id::current_request_id;
use crate::config::TransportLimits;
use crate::tenancy::Caller;

/// The instance's caps.
#[derive(Debug, Clone)]
pub struct Caps {
    requests: Arc<Semaphore>,
    streams: Arc<Semaphore>,
}

impl Caps {
    /// Caps as configured.
    pub fn new(limits: &TransportLimits) -> Self {
        let permits = |n: u32| Arc::new(Semaphore::new(usize::try_from(n.max(1)).unwrap_or(usize::MAX)));
        Self { requests: permits(limits.max_concurrent_requests), streams: permits(limits.max_concurrent_streams) }
    }
}

/// Refuses a request when the instance is at its cap on requests in progress.
/// Health checks are always answered, so an orchestrator sees a busy server as alive.
pub async fn requests(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if matches!(request.uri().path(), "/healthz" | "/readyz") {
        return next.run(request).await;
    }
    match state.caps.requests.clone().try_acquire_owned() {
        Ok(slot) => holding(next.run(request).await, vec![slot]),
        Err(_) => ApiError::overloaded("the server is at its limit of requests in progress").into_response(),
    }
}

/// Refuses a streaming request when the instance is at its cap on streams (the
/// gateway's calls, whose tenants' caps are part of their admission).
pub async fn streams(State(state): State<AppState>, request: Request, next: Next) -> Response {
    match stream_slot(&state) {
        Ok(slot) => holding(next.run(request).await, vec![slot]),
        Err(refused) => refused.into_response(),
    }
}

/// As [`streams`], and refuses it when the caller's tenant is at its own cap
/// (`max_concurrent_streams` quota): for the screenshot API.
pub async fn tenant_streams(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let instance = match stream_slot(&state) {
        Ok(slot) => slot,
        Err(refused) => return refused.into_response(),
    };
    let mut slots = vec![instance];
    if let Some(caller) = request.extensions().get::<Caller>() {
        let request_id = current_request_id().unwrap_or_default();
        match state.tenancy.stream_slot(caller, &request_id).await {
            Ok(tenant) => slots.extend(tenant),
            Err(over) => return ApiError::from(over).into_response(),
        }
    }
    holding(next.run(request).await, slots)
}

fn stream_slot(state: &AppState) -> Result<OwnedSemaphorePermit, ApiError> {
    state
        .caps
        .streams
        .clone()
        .try_acquire_owned()
        .map_err(|_| ApiError::overloaded("the server is at its limit of concurrent streams"))
}

/// `response` with a body that keeps `slots` until it ends or is dropped.
fn holding(response: Response, slots: Vec<OwnedSemaphorePermit>) -> Response {
    response.map(|inner| Body::new(Holding { inner, _slots: slots }))
}

/// A body that holds slots for as long as it lives.
struct Holding {
    inner: Body,
    _slots: Vec<OwnedSemaphorePermit>,
}

impl HttpBody for Holding {
    type Data = bytes::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
