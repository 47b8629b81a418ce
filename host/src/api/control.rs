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
//! - `GET /metrics`: the Prometheus metrics, the one route served without a key

use axum::extract::{Path, Query, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use zeroize::Zeroizing;

use super::auth::{Authenticated, bearer};
use super::request_id::current_request_id;
use super::{ApiError, ApiJson, AppState};
use crate::runtime::AllowedHost;
use crate::store::KeyRecord;
use crate::tenancy::admin::TenantPatch;
use crate::tenancy::{KeySpec, Principal};

/// The control plane's router.
pub fn router(state: AppState) -> Router {
    let metrics = state.runtime.metrics().clone();
    Router::new()
        .route("/v1/whoami", get(whoami))
        .route("/v1/tenants", get(list_tenants).post(create_tenant))
        .route("/v1/tenants/{id}", get(show_tenant).patch(update_tenant))
        .route("/v1/keys", get(list_keys).post(create_key))
        .route("/v1/keys/{prefix}/rotate", post(rotate_key))
        .route("/v1/keys/{prefix}", delete(revoke_key))
        .route("/v1/tenants/{id}/credentials", get(list_credentials))
        .route("/v1/tenants/{id}/credentials/{provider}", put(put_credential).delete(delete_credential))
        .route("/v1/tenants/{id}/usage", get(usage))
        .route("/v1/audit", get(audit))
        .route("/v1/audit/verify", get(verify_audit))
        .fallback(|| async { ApiError::not_found("no such route") })
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), require_key))
        // Without a key: this listener is the operator's (loopback by default).
        .merge(crate::metrics::http::routes(metrics.clone()))
        .layer(axum::extract::DefaultBodyLimit::max(64 << 10))
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

async fn whoami(caller: Authenticated) -> Json<Value> {
    let p = principal(&caller);
    Json(json!({ "key_prefix": p.key_prefix, "role": p.role, "tenant": p.tenant }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewTenant {
    id: String,
    #[serde(default)]
    name: String,
    #[serde(flatten)]
    patch: TenantPatch,
}

async fn create_tenant(
    State(state): State<AppState>,
    caller: Authenticated,
    ApiJson(body): ApiJson<NewTenant>,
) -> Result<Response, ApiError> {
    let tenant =
        state.tenancy.create_tenant(principal(&caller), &request_id(), &body.id, &body.name, body.patch).await?;
    Ok((StatusCode::CREATED, Json(tenant)).into_response())
}

async fn list_tenants(State(state): State<AppState>, caller: Authenticated) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!({ "tenants": state.tenancy.tenants(principal(&caller)).await? })))
}

async fn show_tenant(
    State(state): State<AppState>,
    caller: Authenticated,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!(state.tenancy.tenant(principal(&caller), &id).await?)))
}

async fn update_tenant(
    State(state): State<AppState>,
    caller: Authenticated,
    Path(id): Path<String>,
    ApiJson(patch): ApiJson<TenantPatch>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!(state.tenancy.update_tenant(principal(&caller), &request_id(), &id, patch).await?)))
}

#[derive(Debug, Deserialize)]
struct KeysQuery {
    tenant: Option<String>,
}

async fn list_keys(
    State(state): State<AppState>,
    caller: Authenticated,
    Query(query): Query<KeysQuery>,
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

async fn create_key(
    State(state): State<AppState>,
    caller: Authenticated,
    ApiJson(spec): ApiJson<KeySpec>,
) -> Result<Response, ApiError> {
    let (record, new) = state.tenancy.create_key(principal(&caller), &request_id(), spec).await?;
    Ok(created_key(&record, &new.key))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Rotation {
    #[serde(default)]
    overlap_secs: u64,
}

async fn rotate_key(
    State(state): State<AppState>,
    caller: Authenticated,
    Path(prefix): Path<String>,
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

async fn revoke_key(
    State(state): State<AppState>,
    caller: Authenticated,
    Path(prefix): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.tenancy.revoke_key(principal(&caller), &request_id(), &prefix).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn list_credentials(
    State(state): State<AppState>,
    caller: Authenticated,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!({ "credentials": state.tenancy.credentials(principal(&caller), &id).await? })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewCredential {
    key: String,
    #[serde(default)]
    hosts: Vec<String>,
}

async fn put_credential(
    State(state): State<AppState>,
    caller: Authenticated,
    Path((id, provider)): Path<(String, String)>,
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

async fn delete_credential(
    State(state): State<AppState>,
    caller: Authenticated,
    Path((id, provider)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    state.tenancy.delete_credential(principal(&caller), &request_id(), &id, &provider).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize)]
struct UsageQuery {
    since: Option<i64>,
}

async fn usage(
    State(state): State<AppState>,
    caller: Authenticated,
    Path(id): Path<String>,
    Query(query): Query<UsageQuery>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!(state.tenancy.usage_report(principal(&caller), &id, query.since).await?)))
}

#[derive(Debug, Deserialize)]
struct AuditQuery {
    tenant: Option<String>,
    #[serde(default)]
    after: i64,
    limit: Option<u32>,
}

async fn audit(
    State(state): State<AppState>,
    caller: Authenticated,
    Query(query): Query<AuditQuery>,
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

async fn verify_audit(State(state): State<AppState>, caller: Authenticated) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!(state.tenancy.verify_audit_as(principal(&caller)).await?)))
}
