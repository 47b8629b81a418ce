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
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::error::ErrorBody;
use super::extract::{ApiPath, ApiQuery};
use super::{ApiError, AppState};
use crate::live::SwapError;
use crate::metrics::SwapEvent;
use crate::metrics::http::Who;
use crate::runtime::{LoadedPlugin, World, sha256_hex};

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
    let mut response = next.run(request).await;
    response.extensions_mut().insert(Who::Operator);
    Ok(response)
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

/// A known component and whether it is in service.
#[derive(Debug, Serialize, ToSchema)]
pub struct KnownPlugin {
    /// Its name.
    name: String,
    /// `sanitizer` or `provider`.
    kind: World,
    /// Its version.
    version: String,
    /// sha256 of the component.
    sha256: String,
    /// `bundled`, a file, or `admin-api:<sha256>`.
    source: String,
    /// When it was loaded, in milliseconds since the Unix epoch.
    loaded_at_ms: u64,
    /// `active` or `staged`.
    #[schema(pattern = "^(active|staged)$")]
    state: &'static str,
}

fn summary(plugin: &LoadedPlugin, active: bool) -> KnownPlugin {
    KnownPlugin {
        name: plugin.name().to_owned(),
        kind: plugin.world(),
        version: plugin.version().to_owned(),
        sha256: plugin.sha256.clone(),
        source: plugin.source.clone(),
        loaded_at_ms: plugin.loaded_at_ms,
        state: if active { "active" } else { "staged" },
    }
}

/// `GET /admin/plugins`'s answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct KnownPlugins {
    /// Every known component.
    plugins: Vec<KnownPlugin>,
}

/// `GET /admin/plugins`: every known component and which are in service.
#[utoipa::path(get, path = "/admin/plugins", tag = "admin", responses(
    (status = 200, description = "The components.", body = KnownPlugins),
))]
pub async fn list(State(state): State<AppState>) -> Json<KnownPlugins> {
    let current = state.plugins.current();
    let plugins = state
        .plugins
        .known()
        .iter()
        .map(|plugin| summary(plugin, current.get(plugin.name()).is_some_and(|p| p.sha256 == plugin.sha256)))
        .collect();
    Json(KnownPlugins { plugins })
}

/// The query of an upload.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadQuery {
    /// Put the component in service at once.
    #[serde(default)]
    activate: bool,
}

/// `POST /admin/plugins`: uploads a component (the body), checked, linked and
/// self-tested, then staged.
#[utoipa::path(post, path = "/admin/plugins", tag = "admin",
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "The component."),
    params(
        UploadQuery,
        ("x-airlock-expect-sha256" = Option<String>, Header, description = "The digest the upload must have."),
        ("x-airlock-signature" = Option<String>, Header, description = "The component's `.minisig`, base64."),
    ),
    responses(
        (status = 200, description = "Staged (or active).", body = KnownPlugin),
        (status = 400, description = "The digest differs, or the signature header is not base64.", body = ErrorBody),
        (status = 413, description = "The component is larger than 64 MiB.", body = ErrorBody),
        (status = 422, description = "Refused: signature, imports, or self-test.", body = ErrorBody),
    ))]
pub async fn upload(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<UploadQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<KnownPlugin>, ApiError> {
    let digest = sha256_hex(&body);
    if let Some(expected) = headers.get(EXPECT_DIGEST_HEADER).and_then(|v| v.to_str().ok())
        && !expected.eq_ignore_ascii_case(&digest)
    {
        return Err(ApiError::invalid_request(format!("the upload's sha256 is {digest}, not the expected {expected}")));
    }
    let refused = |plugin: Option<&LoadedPlugin>, message: String| {
        let (name, kind) = plugin.map_or(("unknown", "unknown"), |plugin| (plugin.name(), plugin.world().name()));
        state.runtime.metrics().swap(name, kind, SwapEvent::Refused);
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "plugin_refused", message)
    };
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
        .map_err(|error| refused(None, format!("signature: {error:#}")))?;
    let plugin = state
        .runtime
        .load(&body, &format!("admin-api:{digest}"), &*state.config)
        .await
        .map_err(|error| refused(None, error.to_string()))?;
    crate::validate::self_test(&plugin)
        .await
        .map_err(|error| refused(Some(&plugin), format!("self-test failed: {error}")))?;
    state.plugins.stage(plugin.clone(), &body, signature.as_deref()).map_err(|error| {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "registry_unavailable", format!("{error:#}"))
    })?;
    tracing::info!(plugin = %plugin.name(), version = %plugin.version(), sha256 = %digest, "plugin uploaded");
    if query.activate {
        state.plugins.activate(&digest).map_err(swap_error)?;
    }
    Ok(Json(summary(&plugin, query.activate)))
}

/// `POST /admin/plugins/{sha256}/activate`: puts a known component in service.
#[utoipa::path(post, path = "/admin/plugins/{sha256}/activate", tag = "admin",
    params(("sha256" = String, Path, description = "The component's digest.")),
    responses(
        (status = 200, description = "In service.", body = KnownPlugin),
        (status = 404, description = "No such component (or no admin token configured).", body = ErrorBody),
    ))]
pub async fn activate(
    State(state): State<AppState>,
    ApiPath(sha256): ApiPath<String>,
) -> Result<Json<KnownPlugin>, ApiError> {
    let plugin = state.plugins.activate(&sha256).map_err(swap_error)?;
    Ok(Json(summary(&plugin, true)))
}

/// `POST /admin/plugins/{name}/rollback`: back to the version the last activation of
/// `name` replaced.
#[utoipa::path(post, path = "/admin/plugins/{name}/rollback", tag = "admin",
    params(("name" = String, Path, description = "The plugin.")),
    responses(
        (status = 200, description = "The version now in service.", body = KnownPlugin),
        (status = 409, description = "Nothing to roll back to.", body = ErrorBody),
    ))]
pub async fn rollback(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
) -> Result<Json<KnownPlugin>, ApiError> {
    let plugin = state.plugins.rollback(&name).map_err(swap_error)?;
    Ok(Json(summary(&plugin, true)))
}
