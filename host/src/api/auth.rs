//! Authentication on the public listener: a presented API key
//! (`Authorization: Bearer ak_…`) is checked on every route and its [`Caller`] handed
//! to the handler; without a key, the OpenAI-compatible routes answer 401 and the rest
//! are served only when anonymous use is allowed (`gateway.anonymous`). The browser
//! app's files, health checks, the API's description (`/openapi.json`, `/docs`),
//! previews (unguessable capability URLs a sandboxed iframe loads without headers) and
//! the operator's token-guarded `/admin/` routes are exempt, and so is `/metrics`, which
//! exists on this listener only when the operator made it public (`metrics.public`).

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::request_id::current_request_id;
use super::{ApiError, AppState};
use crate::metrics::http::Who;
use crate::tenancy::{Action, AuditEvent, AuthError, Caller, authorize};

/// The bearer token of a request, if any.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// Whether `path` is served without a key (see the module's documentation).
pub(super) fn is_exempt(path: &str) -> bool {
    matches!(path, "/" | "/app.js" | "/app.css" | "/healthz" | "/readyz" | "/metrics")
        || super::openapi::PATHS.contains(&path)
        || path.starts_with("/admin/")
        || (path.starts_with("/v1/generations/") && path.ends_with("/preview"))
}

/// Whether `path` needs a key even when anonymous use is allowed.
pub(super) fn always_needs_key(path: &str) -> bool {
    matches!(path, "/v1/chat/completions" | "/v1/models")
}

/// Middleware: authenticates the caller, or refuses with 401.
pub async fn authenticate(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let path = path.as_str();
    if is_exempt(path) {
        return next.run(request).await;
    }
    let presented = bearer(request.headers());
    if presented.is_none() && state.anonymous && !always_needs_key(path) {
        return next.run(request).await;
    }
    let request_id = current_request_id().unwrap_or_default();
    match state.tenancy.authenticate(presented, &request_id).await {
        // Control-plane roles (admin, operator, auditor) do not call the API.
        Ok(caller) => match authorize(&caller.principal, Action::CallApi) {
            Ok(()) => {
                let who = who(&caller);
                request.extensions_mut().insert(caller);
                let mut response = next.run(request).await;
                response.extensions_mut().insert(who);
                response
            }
            Err(denied) => {
                let mut event = AuditEvent::new("auth.forbidden", 403);
                event.request_id = Some(request_id);
                event.key_prefix = Some(caller.principal.key_prefix.clone());
                event.target = Some(path.to_owned());
                event.detail = Some(denied.to_string());
                state.tenancy.audit().record(event).await;
                ApiError::forbidden(denied.to_string()).into_response()
            }
        },
        Err(error) => unauthorized(error),
    }
}

/// Who `caller` is, for the metrics' `tenant` label.
pub(super) fn who(caller: &Caller) -> Who {
    caller.tenant.as_ref().map_or(Who::Operator, |tenant| Who::Tenant(tenant.id.clone()))
}

fn unauthorized(error: AuthError) -> Response {
    let mut response = ApiError::from(error).into_response();
    response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    response
}

/// Extracts the caller the middleware authenticated; 401 when the request carried no
/// key (an anonymous request on a route that allows anonymous use).
pub struct Authenticated(pub Caller);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<Caller>().cloned().map(Self).ok_or_else(|| ApiError::from(AuthError::Missing))
    }
}
