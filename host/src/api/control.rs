//! The control plane, served on its own listener (`gateway.admin_listen`, by default
//! `127.0.0.1:8081`). Every route but `/metrics` needs an API key; what each role may
//! do is decided in [`crate::tenancy::authorize`], and every change is in the audit log
//! before the response is sent.
//!
//! - `GET /v1/whoami`
//! - `GET|POST /v1/tenants`, `GET|PATCH /v1/tenants/{id}`
//! - `GET /v1/keys[?tenant=]`, `POST /v1/keys`, `POST /v1/keys/{prefix}/rotate`,
//!   `DELETE /v1/keys/{prefix}`
//! - `GET /v1/tenants/{id}/credentials`, `PUT|DELETE /v1/tenants/{id}/credentials/{provider}`
//! - `GET /v1/tenants/{id}/usage[?since=]`
//! - `GET /v1/audit[?tenant=&after=&limit=]`, `GET /v1/audit/verify`
//! - `GET /metrics`: the Prometheus metrics, and `GET /openapi.json`: the OpenAPI 3.1
//!   document of the routes above; both served without a key

use std::net::SocketAddr;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};
use zeroize::Zeroizing;

use super::auth::{Authenticated, bearer};
use super::error::ErrorBody;
use super::extract::{ApiPath, ApiQuery};
use super::openapi::{self, Routes};
use super::request_id::current_request_id;
use super::{ApiError, ApiJson, AppState};
use crate::runtime::AllowedHost;
use crate::store::KeyRecord;
use crate::tenancy::admin::TenantPatch;
use crate::tenancy::policy::{TenantPolicy, TenantQuotas};
use crate::tenancy::{KeySpec, Principal};

/// The control plane's router, for the listener on `admin_listen`.
pub fn router(state: AppState, admin_listen: SocketAddr) -> Router {
    let metrics = state.runtime.metrics().clone();
    let (routes, document) = Routes::control()
        .route::<__path_whoami, _>(whoami)
        .route::<__path_list_tenants, _>(list_tenants)
        .route::<__path_create_tenant, _>(create_tenant)
        .route::<__path_show_tenant, _>(show_tenant)
        .route::<__path_update_tenant, _>(update_tenant)
        .route::<__path_list_keys, _>(list_keys)
        .route::<__path_create_key, _>(create_key)
        .route::<__path_rotate_key, _>(rotate_key)
        .route::<__path_revoke_key, _>(revoke_key)
        .route::<__path_list_credentials, _>(list_credentials)
        .route::<__path_put_credential, _>(put_credential)
        .route::<__path_delete_credential, _>(delete_credential)
        .route::<__path_usage, _>(usage)
        .route::<__path_audit, _>(audit)
        .route::<__path_verify_audit, _>(verify_audit)
        .finish();
    routes
        .method_not_allowed_fallback(|| async { ApiError::method_not_allowed() })
        .fallback(|| async { ApiError::not_found("no such route") })
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), require_key))
        // Without a key: this listener is the operator's (loopback by default).
        .merge(crate::metrics::http::routes(metrics.clone()))
        .merge(openapi::document(&document))
        .layer(axum::extract::DefaultBodyLimit::max(64 << 10))
        .layer(super::site_guard::cors_layer(&state.config))
        .layer(axum::middleware::from_fn_with_state(
            super::site_guard::SiteGuard::new(admin_listen, &state.config),
            super::site_guard::check,
        ))
        .layer(axum::middleware::from_fn(super::request_id::assign))
        .layer(axum::middleware::from_fn_with_state(metrics, crate::metrics::http::track))
        .with_state(state)
}

/// Every control-plane request needs a valid key.
async fn require_key(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let request_id = current_request_id().unwrap_or_default();
    match state.tenancy.authenticate(bearer(request.headers()), &request_id).await {
        Ok(caller) => {
            let who = super::auth::who(&caller);
            request.extensions_mut().insert(caller);
            let mut response = next.run(request).await;
            response.extensions_mut().insert(who);
            response
        }
        Err(error) => ApiError::from(error).into_response(),
    }
}

fn request_id() -> String {
    current_request_id().unwrap_or_default()
}

fn key_json(record: &KeyRecord) -> Value {
    json!({
        "prefix": record.prefix, "tenant": record.tenant, "role": record.role, "name": record.name,
        "created_at": record.created_at, "expires_at": record.expires_at, "revoked_at": record.revoked_at,
        "rotated_from": record.rotated_from, "limits": record.limits,
    })
}

fn principal(caller: &Authenticated) -> &Principal {
    &caller.0.principal
}

/// The calling key: its prefix, role and tenant.
#[utoipa::path(get, path = "/v1/whoami", tag = "keys", responses(
    (status = 200, description = "`{ key_prefix, role, tenant }`.", body = Value),
))]
async fn whoami(caller: Authenticated) -> Json<Value> {
    let p = principal(&caller);
    Json(json!({ "key_prefix": p.key_prefix, "role": p.role, "tenant": p.tenant }))
}

/// A new tenant.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewTenant {
    /// 1–64 of a-z, 0-9 and `-`.
    id: String,
    /// Its display name.
    #[serde(default)]
    name: String,
    /// Disabled from the start (every key refused).
    disabled: Option<bool>,
    /// Its plugin policy; by default every provider, `prompt-guard` in, `secrets` out.
    policy: Option<TenantPolicy>,
    /// Its quotas; by default none.
    quotas: Option<TenantQuotas>,
}

/// Creates a tenant.
#[utoipa::path(post, path = "/v1/tenants", tag = "tenants", request_body = NewTenant, responses(
    (status = 201, description = "The tenant.", body = Value),
    (status = 400, description = "Invalid id, policy or quotas.", body = ErrorBody),
    (status = 409, description = "The tenant exists.", body = ErrorBody),
))]
async fn create_tenant(
    State(state): State<AppState>,
    caller: Authenticated,
    ApiJson(body): ApiJson<NewTenant>,
) -> Result<Response, ApiError> {
    let patch = TenantPatch { name: None, disabled: body.disabled, policy: body.policy, quotas: body.quotas };
    let tenant = state.tenancy.create_tenant(principal(&caller), &request_id(), &body.id, &body.name, patch).await?;
    Ok((StatusCode::CREATED, Json(tenant)).into_response())
}

/// The tenants the key may see.
#[utoipa::path(get, path = "/v1/tenants", tag = "tenants", responses(
    (status = 200, description = "`{ tenants: [...] }`.", body = Value),
))]
async fn list_tenants(State(state): State<AppState>, caller: Authenticated) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!({ "tenants": state.tenancy.tenants(principal(&caller)).await? })))
}

/// One tenant.
#[utoipa::path(get, path = "/v1/tenants/{id}", tag = "tenants", params(("id" = String, Path, description = "The tenant.")),
    responses((status = 200, description = "The tenant.", body = Value), (status = 404, description = "No such tenant.", body = ErrorBody)))]
async fn show_tenant(
    State(state): State<AppState>,
    caller: Authenticated,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!(state.tenancy.tenant(principal(&caller), &id).await?)))
}

/// Changes a tenant: what is absent stays.
#[utoipa::path(patch, path = "/v1/tenants/{id}", tag = "tenants", request_body = TenantPatch,
    params(("id" = String, Path, description = "The tenant.")),
    responses((status = 200, description = "The tenant.", body = Value), (status = 404, description = "No such tenant.", body = ErrorBody)))]
async fn update_tenant(
    State(state): State<AppState>,
    caller: Authenticated,
    ApiPath(id): ApiPath<String>,
    ApiJson(patch): ApiJson<TenantPatch>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!(state.tenancy.update_tenant(principal(&caller), &request_id(), &id, patch).await?)))
}

/// `GET /v1/keys`' query.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct KeysQuery {
    /// Only this tenant's keys.
    tenant: Option<String>,
}

/// The keys the caller may see (prefixes, never keys).
#[utoipa::path(get, path = "/v1/keys", tag = "keys", params(KeysQuery), responses(
    (status = 200, description = "`{ keys: [...] }`.", body = Value),
    (status = 400, description = "The query does not parse.", body = ErrorBody),
))]
async fn list_keys(
    State(state): State<AppState>,
    caller: Authenticated,
    ApiQuery(query): ApiQuery<KeysQuery>,
) -> Result<Json<Value>, ApiError> {
    let keys = state.tenancy.keys(principal(&caller), query.tenant.as_deref()).await?;
    Ok(Json(json!({ "keys": keys.iter().map(key_json).collect::<Vec<_>>() })))
}

fn created_key(record: &KeyRecord, key: &str) -> Response {
    let mut body = key_json(record);
    body["key"] = Value::String(key.to_owned());
    let mut response = (StatusCode::CREATED, Json(body)).into_response();
    response.headers_mut().insert(axum::http::header::CACHE_CONTROL, "no-store".parse().expect("static header"));
    response
}

/// Creates a key; the answer is the only time it is shown (`key`).
#[utoipa::path(post, path = "/v1/keys", tag = "keys", request_body = KeySpec, responses(
    (status = 201, description = "The key's record and `key`.", body = Value),
    (status = 400, description = "Invalid spec (e.g. a tenant role without a tenant).", body = ErrorBody),
    (status = 404, description = "No such tenant.", body = ErrorBody),
))]
async fn create_key(
    State(state): State<AppState>,
    caller: Authenticated,
    ApiJson(spec): ApiJson<KeySpec>,
) -> Result<Response, ApiError> {
    let (record, new) = state.tenancy.create_key(principal(&caller), &request_id(), spec).await?;
    Ok(created_key(&record, &new.key))
}

/// How a key is replaced.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct Rotation {
    /// Seconds the old key keeps working.
    #[serde(default)]
    overlap_secs: u64,
}

/// Replaces a key (the body is optional); the new key is shown once.
#[utoipa::path(post, path = "/v1/keys/{prefix}/rotate", tag = "keys", request_body = Rotation,
    params(("prefix" = String, Path, description = "The key's prefix.")),
    responses((status = 201, description = "The new key's record and `key`.", body = Value), (status = 404, description = "No such key.", body = ErrorBody)))]
async fn rotate_key(
    State(state): State<AppState>,
    caller: Authenticated,
    ApiPath(prefix): ApiPath<String>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let rotation: Rotation = if body.is_empty() {
        Rotation::default()
    } else {
        serde_json::from_slice(&body).map_err(|error| ApiError::invalid_request(format!("the body: {error}")))?
    };
    let overlap = rotation.overlap_secs;
    let (record, new) = state.tenancy.rotate_key(principal(&caller), &request_id(), &prefix, overlap).await?;
    Ok(created_key(&record, &new.key))
}

/// Revokes a key at once.
#[utoipa::path(delete, path = "/v1/keys/{prefix}", tag = "keys",
    params(("prefix" = String, Path, description = "The key's prefix.")),
    responses((status = 204, description = "Revoked."), (status = 404, description = "No such key.", body = ErrorBody)))]
async fn revoke_key(
    State(state): State<AppState>,
    caller: Authenticated,
    ApiPath(prefix): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    state.tenancy.revoke_key(principal(&caller), &request_id(), &prefix).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A tenant's provider credentials (never their values).
#[utoipa::path(get, path = "/v1/tenants/{id}/credentials", tag = "tenants",
    params(("id" = String, Path, description = "The tenant.")),
    responses((status = 200, description = "`{ credentials: [...] }`.", body = Value), (status = 404, description = "No such tenant.", body = ErrorBody)))]
async fn list_credentials(
    State(state): State<AppState>,
    caller: Authenticated,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!({ "credentials": state.tenancy.credentials(principal(&caller), &id).await? })))
}

/// A tenant's key for a provider, sealed at rest.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewCredential {
    /// The key.
    key: String,
    /// Hosts it may be sent to, among those the operator binds the provider's keys to.
    #[serde(default)]
    hosts: Vec<String>,
}

/// Sets a tenant's key for a provider.
#[utoipa::path(put, path = "/v1/tenants/{id}/credentials/{provider}", tag = "tenants", request_body = NewCredential,
    params(("id" = String, Path, description = "The tenant."), ("provider" = String, Path, description = "The provider.")),
    responses(
        (status = 200, description = "The credential (without its value).", body = Value),
        (status = 400, description = "A host the operator does not bind this provider's keys to.", body = ErrorBody),
        (status = 404, description = "No such tenant or provider.", body = ErrorBody),
    ))]
async fn put_credential(
    State(state): State<AppState>,
    caller: Authenticated,
    ApiPath((id, provider)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<NewCredential>,
) -> Result<Json<Value>, ApiError> {
    let plugin = state
        .plugins
        .current()
        .get(&provider)
        .and_then(|plugin| plugin.provider().cloned())
        .ok_or_else(|| ApiError::not_found(format!("no provider called `{provider}` is loaded")))?;
    let bound: Vec<String> = plugin.gate().credential_hosts().iter().map(ToString::to_string).collect();
    let mut hosts = Vec::with_capacity(body.hosts.len());
    for host in &body.hosts {
        let normal = host
            .parse::<AllowedHost>()
            .map_err(|error| ApiError::invalid_request(format!("`hosts`: {error}")))?
            .to_string();
        if !bound.contains(&normal) {
            return Err(ApiError::invalid_request(format!(
                "`{host}` is not one of the hosts the operator binds `{provider}` keys to ({})",
                bound.join(", ")
            )));
        }
        hosts.push(normal);
    }
    let info = state
        .tenancy
        .put_credential(principal(&caller), &request_id(), &id, &provider, Zeroizing::new(body.key), hosts)
        .await?;
    Ok(Json(json!(info)))
}

/// Removes a tenant's key for a provider.
#[utoipa::path(delete, path = "/v1/tenants/{id}/credentials/{provider}", tag = "tenants",
    params(("id" = String, Path, description = "The tenant."), ("provider" = String, Path, description = "The provider.")),
    responses((status = 204, description = "Removed."), (status = 404, description = "No such tenant or credential.", body = ErrorBody)))]
async fn delete_credential(
    State(state): State<AppState>,
    caller: Authenticated,
    ApiPath((id, provider)): ApiPath<(String, String)>,
) -> Result<StatusCode, ApiError> {
    state.tenancy.delete_credential(principal(&caller), &request_id(), &id, &provider).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /v1/tenants/{id}/usage`' query.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct UsageQuery {
    /// Since when, Unix seconds; by default the start of this month.
    since: Option<i64>,
}

/// A tenant's usage: totals and per model.
#[utoipa::path(get, path = "/v1/tenants/{id}/usage", tag = "usage",
    params(("id" = String, Path, description = "The tenant."), UsageQuery),
    responses(
        (status = 200, description = "The report.", body = Value),
        (status = 400, description = "The query does not parse.", body = ErrorBody),
        (status = 404, description = "No such tenant.", body = ErrorBody),
    ))]
async fn usage(
    State(state): State<AppState>,
    caller: Authenticated,
    ApiPath(id): ApiPath<String>,
    ApiQuery(query): ApiQuery<UsageQuery>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!(state.tenancy.usage_report(principal(&caller), &id, query.since).await?)))
}

/// `GET /v1/audit`'s query.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct AuditQuery {
    /// Only this tenant's records.
    tenant: Option<String>,
    /// Records after this sequence number.
    #[serde(default)]
    after: i64,
    /// Most records; by default 100.
    limit: Option<u32>,
}

/// Audit records, oldest first, with their chain hashes.
#[utoipa::path(get, path = "/v1/audit", tag = "usage", params(AuditQuery), responses(
    (status = 200, description = "`{ records: [{ seq, event, prev_hash, hash }] }`.", body = Value),
    (status = 400, description = "The query does not parse.", body = ErrorBody),
))]
async fn audit(
    State(state): State<AppState>,
    caller: Authenticated,
    ApiQuery(query): ApiQuery<AuditQuery>,
) -> Result<Json<Value>, ApiError> {
    let rows = state
        .tenancy
        .audit_rows(principal(&caller), query.tenant.as_deref(), query.after, query.limit.unwrap_or(100))
        .await?;
    let records: Vec<Value> = rows
        .iter()
        .map(|row| {
            let event: Value = serde_json::from_str(&row.event).unwrap_or(Value::Null);
            json!({ "seq": row.seq, "event": event, "prev_hash": row.prev_hash, "hash": row.hash })
        })
        .collect();
    Ok(Json(json!({ "records": records })))
}

/// Checks the audit chain.
#[utoipa::path(get, path = "/v1/audit/verify", tag = "usage", responses(
    (status = 200, description = "The verification.", body = Value),
))]
async fn verify_audit(State(state): State<AppState>, caller: Authenticated) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!(state.tenancy.verify_audit_as(principal(&caller)).await?)))
}
