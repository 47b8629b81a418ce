//! HTTP routes.
//!
//! - `GET /`, `/app.js`, `/app.css`: the browser app ([`app`]);
//! - `GET /healthz`, `GET /readyz`: liveness and readiness ([`health`]);
//! - `/admin/plugins…`: upload, activate, roll back plugins, with the operator's token
//!   ([`admin`]);
//! - `GET /v1/plugins`: the loaded plugins; `POST /v1/sanitize`: run a sanitizer
//!   ([`sanitize`]);
//! - `POST /v1/generations` (screenshots to pages, streamed), `GET /v1/generations/{id}`,
//!   `GET /v1/generations/{id}/variants/{n}/preview` ([`generations`]);
//! - `GET /v1/providers`, `GET /v1/providers/{name}/models`,
//!   `POST /v1/providers/{name}/generate`: the providers, their models, and a streamed
//!   generation through one ([`generate`]);
//! - `POST /v1/chat/completions`, `GET /v1/models`: the OpenAI-compatible gateway
//!   (`openai`), for tenants' API keys.
//!
//! API keys are checked on every route by [`auth`]; the control plane (tenants, keys,
//! credentials, usage, audit) is a separate router on its own listener ([`control`]).
//!
//! Every error is JSON (`{ "error": { "type", "message", "request_id" } }`, see
//! [`ApiError`]) and every response carries `x-request-id`.

mod admin;
mod app;
pub mod auth;
pub mod control;
mod error;
mod generate;
mod generations;
mod health;
mod json;
mod openai;
mod request_id;
mod sanitize;

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

pub use error::ApiError;
pub use generate::OWN_KEY_HEADER;
pub use json::ApiJson;
pub use request_id::REQUEST_ID_HEADER;

use crate::config::Config;
use crate::generation::{Generations, ImageLimits};
use crate::live::LivePlugins;
use crate::runtime::Runtime;
use crate::tenancy::Tenancy;

/// Header naming the plugin versions that served a response, e.g. `html@0.1.0`.
pub const PLUGINS_HEADER: &str = "x-airlock-plugins";

/// A server-sent-event response of what `receiver` yields, each turned into an event
/// by `to_event`; it ends when every sender is gone, and dropping it (the client left)
/// closes the channel, which tells the senders to stop.
fn sse_response<T: Send + 'static>(
    receiver: tokio::sync::mpsc::Receiver<T>,
    to_event: fn(T) -> axum::response::sse::Event,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let events = futures_util::stream::unfold(receiver, move |mut receiver| async move {
        let event = to_event(receiver.recv().await?);
        Some((Ok::<_, std::convert::Infallible>(event), receiver))
    });
    axum::response::sse::Sse::new(events).keep_alive(axum::response::sse::KeepAlive::default()).into_response()
}

/// Names the plugin versions that served `response` in [`PLUGINS_HEADER`].
fn set_plugins_header(response: &mut axum::response::Response, used: &str) {
    if let Ok(value) = axum::http::HeaderValue::from_str(used) {
        response.headers_mut().insert(axum::http::HeaderName::from_static(PLUGINS_HEADER), value);
    }
}

/// Largest component an operator may upload.
const ADMIN_UPLOAD_LIMIT: usize = 64 << 20;

/// What handlers share.
#[derive(Clone)]
pub struct AppState {
    /// The plugins in service (swappable).
    pub plugins: Arc<LivePlugins>,
    /// The runtime that loads uploaded plugins.
    pub runtime: Arc<Runtime>,
    /// The configuration (the settings of uploaded plugins).
    pub config: Arc<Config>,
    /// False once shutdown has begun: `/readyz` then answers 503.
    pub ready: Arc<AtomicBool>,
    /// The generations kept.
    pub generations: Arc<Generations>,
    /// Caps on uploaded screenshots.
    pub image_limits: ImageLimits,
    /// Hosts a preview may load scripts, styles and fonts from (the html sanitizer's).
    pub preview_hosts: Arc<Vec<String>>,
    /// Largest generation request body, in bytes.
    pub max_generation_body: usize,
    /// Tenants, keys, quotas and the audit log.
    pub tenancy: Arc<Tenancy>,
    /// Whether callers without a key may use the screenshot API.
    pub anonymous: bool,
}

/// The API's router with its middleware.
pub fn router(state: AppState, max_body_bytes: usize) -> Router {
    Router::new()
        .route("/", get(app::index))
        .route("/app.js", get(app::script))
        .route("/app.css", get(app::style))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/v1/plugins", get(sanitize::list_plugins))
        .route("/v1/sanitize", post(sanitize::sanitize))
        .route("/v1/providers", get(generate::list_providers))
        .route("/v1/providers/{name}/generate", post(generate::generate))
        .route("/v1/providers/{name}/models", get(generate::list_models))
        .route("/v1/generations", post(generations::create).layer(DefaultBodyLimit::max(state.max_generation_body)))
        .route("/v1/generations/{id}", get(generations::show))
        .route("/v1/generations/{id}/variants/{index}/preview", get(generations::preview))
        .route(
            "/v1/chat/completions",
            post(openai::chat_completions).layer(DefaultBodyLimit::max(state.max_generation_body)),
        )
        .route("/v1/models", get(openai::list_models))
        .merge(
            Router::new()
                .route("/admin/plugins", get(admin::list).post(admin::upload))
                .route("/admin/plugins/{sha256}/activate", post(admin::activate))
                .route("/admin/plugins/{name}/rollback", post(admin::rollback))
                .layer(DefaultBodyLimit::max(ADMIN_UPLOAD_LIMIT))
                .route_layer(axum::middleware::from_fn_with_state(state.clone(), admin::require_token)),
        )
        .fallback(|| async { ApiError::not_found("no such route") })
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .layer(axum::middleware::from_fn_with_state(state.clone(), auth::authenticate))
        .layer(axum::middleware::from_fn(request_id::assign))
        .with_state(state)
}
