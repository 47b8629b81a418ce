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
//! - `GET /openapi.json`, `GET /docs`: the OpenAPI 3.1 document of these routes, made
//!   from the handlers' annotations as they are routed, and a page that renders it
//!   (`openapi`).
//!
//! API keys are checked on every route by [`auth`]; the control plane (tenants, keys,
//! credentials, usage, audit) is a separate router on its own listener ([`control`]).
//!
//! Both listeners refuse foreign `Host`s and cross-site state-changing requests
//! ([`site_guard`]).
//!
//! Every error is JSON (`{ "error": { "type", "message", "request_id" } }`, see
//! [`ApiError`]) and every response carries `x-request-id`.

mod admin;
mod app;
pub mod auth;
mod concurrency;
pub mod control;
mod error;
mod extract;
mod generate;
mod generations;
mod health;
mod json;
mod openai;
mod openapi;
mod request_id;
mod sanitize;
mod security_headers;
pub mod site_guard;

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, on};

pub use concurrency::Caps;
pub use error::ApiError;
pub use generate::OWN_KEY_HEADER;
pub use json::ApiJson;
pub use request_id::REQUEST_ID_HEADER;

use self::openapi::Routes;

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
    /// The instance's caps on requests and streams in progress.
    pub caps: Caps,
    /// The `strict-transport-security` value, when the listener terminates TLS.
    pub hsts: Option<axum::http::HeaderValue>,
}

/// The API's router with its middleware.
pub fn router(state: AppState, max_body_bytes: usize) -> Router {
    let (routes, openapi) = documented_routes(&state).finish();
    let metrics = state.runtime.metrics().clone();
    // Its labels name tenants: on this listener only when the operator says so.
    let public_metrics =
        if state.config.metrics.public { crate::metrics::http::routes(metrics.clone()) } else { Router::new() };
    Router::new()
        .route("/", get(app::index))
        .route("/app.js", get(app::script))
        .route("/app.css", get(app::style))
        .merge(openapi::serve(&openapi))
        .merge(public_metrics)
        .merge(routes)
        .method_not_allowed_fallback(|| async { ApiError::method_not_allowed() })
        .fallback(|| async { ApiError::not_found("no such route") })
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .layer(tower_http::timeout::RequestBodyTimeoutLayer::new(state.config.limits.body_read_timeout()))
        .layer(axum::middleware::from_fn_with_state(state.clone(), auth::authenticate))
        .layer(axum::middleware::from_fn_with_state(state.clone(), concurrency::requests))
        .layer(site_guard::cors_layer(&state.config))
        .layer(axum::middleware::from_fn_with_state(
            site_guard::SiteGuard::new(state.config.listen, &state.config),
            site_guard::check,
        ))
        .layer(axum::middleware::from_fn_with_state(state.clone(), security_headers::add))
        .layer(axum::middleware::from_fn(request_id::assign))
        .layer(axum::middleware::from_fn_with_state(metrics, crate::metrics::http::track))
        .with_state(state)
}

/// Every route of the API but the app's files, each with its documentation.
fn documented_routes(state: &AppState) -> Routes {
    let generation_limit = DefaultBodyLimit::max(state.max_generation_body);
    let stream_caps = axum::middleware::from_fn_with_state(state.clone(), concurrency::streams);
    let tenant_stream_caps = axum::middleware::from_fn_with_state(state.clone(), concurrency::tenant_streams);
    let admin = Routes::new()
        .route::<admin::__path_list, _>(admin::list)
        .route::<admin::__path_upload, _>(admin::upload)
        .route::<admin::__path_activate, _>(admin::activate)
        .route::<admin::__path_rollback, _>(admin::rollback);
    Routes::new()
        .route::<health::__path_healthz, _>(health::healthz)
        .route::<health::__path_readyz, _>(health::readyz)
        .route::<sanitize::__path_list_plugins, _>(sanitize::list_plugins)
        .route::<sanitize::__path_sanitize, _>(sanitize::sanitize)
        .route::<generate::__path_list_providers, _>(generate::list_providers)
        .route_with::<generate::__path_generate>(|methods| {
            on(methods, generate::generate).layer(generation_limit).route_layer(tenant_stream_caps.clone())
        })
        .route::<generate::__path_list_models, _>(generate::list_models)
        .route_with::<generations::__path_create>(|methods| {
            on(methods, generations::create).layer(generation_limit).route_layer(tenant_stream_caps)
        })
        .route::<generations::__path_show, _>(generations::show)
        .route::<generations::__path_preview, _>(generations::preview)
        .route_with::<openai::__path_chat_completions>(|methods| {
            on(methods, openai::chat_completions).layer(generation_limit).route_layer(stream_caps)
        })
        .route::<openai::__path_list_models, _>(openai::list_models)
        .merge(admin, |admin| {
            admin
                .layer(DefaultBodyLimit::max(ADMIN_UPLOAD_LIMIT))
                .route_layer(axum::middleware::from_fn_with_state(state.clone(), admin::require_token))
        })
}
