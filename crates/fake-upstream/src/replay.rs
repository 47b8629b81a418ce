//! A replaying upstream: every request gets the status and body a test set, unchanged
//! (CRLF framing, padding, a missing last newline), as a vendor once sent them.

use std::sync::{Arc, Mutex, PoisonError};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::{Recorded, Vendor};

/// What a replaying upstream answers; shared with the test that sets it.
#[derive(Debug, Clone, Default)]
pub struct Replay(Arc<Mutex<(u16, Bytes)>>);

impl Replay {
    /// Answers every request from now on with `status` and exactly `body`.
    pub fn set(&self, status: u16, body: Vec<u8>) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = (status, Bytes::from(body));
    }

    fn answer(&self) -> (u16, Bytes) {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

#[derive(Clone)]
struct Replaying {
    vendor: Vendor,
    replay: Replay,
    recorded: Arc<Mutex<Vec<Recorded>>>,
}

pub(crate) fn router(vendor: Vendor, replay: Replay, recorded: Arc<Mutex<Vec<Recorded>>>) -> Router {
    Router::new().fallback(answer).with_state(Replaying { vendor, replay, recorded })
}

async fn answer(State(state): State<Replaying>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX).await.unwrap_or_default();
    let recorded = Recorded::new(state.vendor, &parts, body);
    state.recorded.lock().unwrap_or_else(PoisonError::into_inner).push(recorded);
    let (status, body) = state.replay.answer();
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let content_type = if status.is_success() { "text/event-stream" } else { "application/json" };
    (status, [(header::CONTENT_TYPE, content_type)], Body::from(body)).into_response()
}
