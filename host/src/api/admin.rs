//! The operator's plugin endpoints, behind the `admin_token` (no token configured: the
//! endpoints do not exist):
//!
//! - `GET /admin/plugins` — every known component and which are in service;
//! - `POST /admin/plugins` — upload a component (the body); it is checked, linked and
//!   self-tested, then kept staged (`?activate=true` activates it at once). Header
//!   `x-airlock-expect-sha256` pins the digest the upload must have, and
//!   `x-airlock-signature` carries its `.minisig` (base64), checked against
//!   `plugin_signatures` (required when `require` is set);
//! - `POST /admin/plugins/{sha256}/activate` — put a known component in service;
//! - `POST /admin/plugins/{name}/rollback` — back to the version the last activation
//!   of `name` replaced.
//!
//! Swaps are atomic: in-flight requests finish on the version they started with.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine as _;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{ApiError, AppState};
use crate::live::SwapError;
use crate::runtime::{LoadedPlugin, sha256_hex};

/// The header pinning an upload's digest.
pub const EXPECT_DIGEST_HEADER: &str = "x-airlock-expect-sha256";
/// The header carrying an upload's detached signature: the `.minisig` file, base64.
pub const SIGNATURE_HEADER: &str = "x-airlock-signature";

/// Refuses requests without the operator's bearer token (compared in constant time).
pub async fn require_token(State(state): State<AppState>, request: Request, next: Next) -> Result<Response, ApiError> {
    let Some(token) = state.config.admin_token.as_ref() else {
        return Err(ApiError::not_found("no such route"));
    };
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .unwrap_or_default();
    if !constant_time_eq(presented.as_bytes(), token.expose().as_bytes()) {
        return Err(ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", "a valid admin token is required"));
    }
    Ok(next.run(request).await)
}

fn swap_error(error: SwapError) -> ApiError {
    let (status, kind) = match &error {
        SwapError::UnknownDigest(_) => (StatusCode::NOT_FOUND, "not_found"),
        SwapError::NothingToRollBack(_) => (StatusCode::CONFLICT, "nothing_to_roll_back"),
        SwapError::Persist(_) => (StatusCode::INTERNAL_SERVER_ERROR, "registry_unavailable"),
    };
    ApiError::new(status, kind, error.to_string())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn summary(plugin: &LoadedPlugin, active: bool) -> Value {
    json!({
        "name": plugin.name(), "kind": plugin.world(), "version": plugin.version(), "sha256": plugin.sha256,
        "source": plugin.source, "loaded_at_ms": plugin.loaded_at_ms,
        "state": if active { "active" } else { "staged" },
    })
}

/// `GET /admin/plugins`.
pub async fn list(State(state): State<AppState>) -> Json<Value> {
    let current = state.plugins.current();
    let plugins: Vec<Value> = state
        .plugins
        .known()
        .iter()
        .map(|plugin| summary(plugin, current.get(plugin.name()).is_some_and(|p| p.sha256 == plugin.sha256)))
        .collect();
    Json(json!({ "plugins": plugins }))
}

/// The query of an upload.
#[derive(Debug, Deserialize)]
pub struct UploadQuery {
    #[serde(default)]
    activate: bool,
}

/// `POST /admin/plugins`.
pub async fn upload(
    State(state): State<AppState>,
    Query(query): Query<UploadQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let digest = sha256_hex(&body);
    if let Some(expected) = headers.get(EXPECT_DIGEST_HEADER).and_then(|v| v.to_str().ok())
        && !expected.eq_ignore_ascii_case(&digest)
    {
        return Err(ApiError::invalid_request(format!("the upload's sha256 is {digest}, not the expected {expected}")));
    }
    let refused = |message: String| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "plugin_refused", message);
    let signature = match headers.get(SIGNATURE_HEADER) {
        Some(value) => {
            let text = base64::engine::general_purpose::STANDARD
                .decode(value.as_bytes())
                .ok()
                .and_then(|bytes| String::from_utf8(bytes).ok())
                .ok_or_else(|| {
                    ApiError::invalid_request(format!("`{SIGNATURE_HEADER}` is not a base64 .minisig file"))
                })?;
            Some(text)
        }
        None => None,
    };
    state
        .config
        .plugin_signatures
        .check(&body, signature.as_deref())
        .map_err(|error| refused(format!("signature: {error:#}")))?;
    let plugin = state
        .runtime
        .load(&body, &format!("admin-api:{digest}"), &*state.config)
        .await
        .map_err(|error| refused(error.to_string()))?;
    crate::validate::self_test(&plugin).await.map_err(|error| refused(format!("self-test failed: {error}")))?;
    state.plugins.stage(plugin.clone(), &body, signature.as_deref()).map_err(|error| {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "registry_unavailable", format!("{error:#}"))
    })?;
    tracing::info!(plugin = %plugin.name(), version = %plugin.version(), sha256 = %digest, "plugin uploaded");
    if query.activate {
        state.plugins.activate(&digest).map_err(swap_error)?;
    }
    Ok(Json(summary(&plugin, query.activate)))
}

/// `POST /admin/plugins/{sha256}/activate`.
pub async fn activate(State(state): State<AppState>, Path(sha256): Path<String>) -> Result<Json<Value>, ApiError> {
    let plugin = state.plugins.activate(&sha256).map_err(swap_error)?;
    Ok(Json(summary(&plugin, true)))
}

/// `POST /admin/plugins/{name}/rollback`.
pub async fn rollback(State(state): State<AppState>, Path(name): Path<String>) -> Result<Json<Value>, ApiError> {
    let plugin = state.plugins.rollback(&name).map_err(swap_error)?;
    Ok(Json(summary(&plugin, true)))
}
