//! Which provider serves a model name, under the tenant's policy; with which key; and
//! falling back along an alias's routes when one fails before its answer starts.

use std::sync::Arc;

use axum::http::StatusCode;

use crate::api::{ApiError, AppState};
use crate::runtime::{CallError, Chunk, GenerateRequest, Generation, ProviderPlugin, RequestKey};
use crate::store::Tenant;

/// One place a request can be served.
#[derive(Clone)]
pub struct Route {
    /// The provider.
    pub provider: Arc<ProviderPlugin>,
    /// The model id the provider is asked for.
    pub model: String,
}

impl Route {
    /// `name@version` and sha256 of the provider, for the audit log.
    pub fn plugin_id(&self, state: &AppState) -> String {
        let name = self.provider.name();
        let sha = state.plugins.current().get(name).map(|plugin| plugin.sha256.clone()).unwrap_or_default();
        format!("{name}@{}#{sha}", self.provider.manifest().version)
    }
}

/// The routes for `model`, in order, that `tenant` may use.
///
/// # Errors
///
/// 404 when no provider serves the name; 403 when the tenant's policy allows none of
/// the routes.
pub fn resolve(state: &AppState, tenant: &Tenant, model: &str) -> Result<Vec<Route>, ApiError> {
    let plugins = state.plugins.current();
    let provider = |name: &str| plugins.get(name).and_then(|plugin| plugin.provider().cloned());
    let alias = state.config.gateway.models.get(model);
    let candidates: Vec<Route> = if let Some(alias) = alias {
        alias
            .routes
            .iter()
            .filter_map(|target| {
                let (name, id) = target.split_once('/')?;
                Some(Route { provider: provider(name)?, model: id.to_owned() })
            })
            .collect()
    } else if let Some((name, id)) = model.split_once('/')
        && let Some(provider) = provider(name)
    {
        vec![Route { provider, model: id.to_owned() }]
    } else {
        plugins
            .iter()
            .filter_map(|plugin| plugin.provider().cloned())
            .filter(|provider| provider.manifest().models.iter().any(|known| known.id == model))
            .map(|provider| Route { provider, model: model.to_owned() })
            .take(1)
            .collect()
    };
    if candidates.is_empty() {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "model_not_found",
            format!("no provider serves model `{model}`"),
        ));
    }
    let alias_name = alias.map(|_| model);
    let allowed: Vec<Route> = candidates
        .into_iter()
        .filter(|route| tenant.policy.allows(route.provider.name(), &route.model, alias_name))
        .collect();
    if allowed.is_empty() {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "model_not_allowed",
            format!("tenant `{}` may not use model `{model}`", tenant.id),
        ));
    }
    Ok(allowed)
}

/// A generation that has produced its first chunk, and the route that served it.
pub struct Started {
    /// The route that answered.
    pub route: Route,
    /// The rest of the answer.
    pub generation: Generation,
    /// Its first chunk.
    pub first: Option<Chunk>,
}

/// Whether a failure before the answer started is worth trying the next route for:
/// rate limits, server-side failures and timeouts, not the caller's own mistakes.
fn worth_falling_back(error: &ApiError) -> bool {
    error.status() == StatusCode::TOO_MANY_REQUESTS || error.status().is_server_error()
}

/// Starts the generation on the first route that answers, falling back on failures
/// worth it; the last failure is returned when none answers.
///
/// # Errors
///
/// The last route's failure, with the provider's meaning (e.g. 429 with retry-after).
pub async fn start(
    state: &AppState,
    tenant: &Tenant,
    routes: &[Route],
    request: &GenerateRequest,
) -> Result<Started, (Route, ApiError)> {
    let mut last = None;
    for route in routes {
        let key = match state.tenancy.open_credential(&tenant.id, route.provider.name()).await {
            Ok(key) => key.map(|(key, hosts)| RequestKey::bound_to(key.as_str(), hosts)),
            Err(error) => return Err((route.clone(), error.into())),
        };
        let request = GenerateRequest { model: route.model.clone(), ..request.clone() };
        let attempt = async {
            let mut generation = route.provider.generate(&request, key).await?;
            let first = generation.next().await?;
            Ok::<_, CallError>((generation, first))
        };
        match attempt.await {
            Ok((generation, first)) => return Ok(Started { route: route.clone(), generation, first }),
            Err(error) => {
                let error = ApiError::from(error);
                let fall_back = worth_falling_back(&error);
                tracing::info!(provider = %route.provider.name(), model = %route.model, status = %error.status(), fall_back, "route failed");
                last = Some((route.clone(), error));
                if !fall_back {
                    break;
                }
            }
        }
    }
    Err(last.expect("resolve returns at least one route"))
}
