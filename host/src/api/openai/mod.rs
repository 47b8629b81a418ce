//! The OpenAI-compatible API, for programs that speak OpenAI's wire format:
//!
//! - `POST /v1/chat/completions` — plain or streamed (`"stream": true`), text and
//!   image parts (inline `data:` URLs);
//! - `GET /v1/models` — the models the caller's tenant may use.
//!
//! Each call needs a tenant's API key. It is admitted against the key's rate limits and
//! the tenant's quotas, its user messages pass the tenant's input sanitizers (e.g.
//! `prompt-guard`, which flags or blocks injections), it is routed to an allowed
//! provider (along an alias's fallbacks when one fails before answering), with the
//! tenant's own credential when it set one, and the answer passes the tenant's output
//! sanitizers as it streams. Its usage and audit record are written when it ends.

mod routing;
mod wire;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::sse::Event;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use self::routing::Started;
use self::wire::{ChatBody, ChatCompletion, Envelope, Usage};
use super::auth::Authenticated;
use super::error::ErrorBody;
use super::request_id::current_request_id;
use super::{ApiError, ApiJson, AppState};
use crate::chain::{ChainStream, SanitizerChain};
use crate::runtime::{Chunk, GenerateRequest, Part, Role, SanitizeRequest, Stage};
use crate::store::Tenant;
use crate::tenancy::{Admission, AuditEvent, Caller, Outcome};

/// The tenant of a caller (the auth middleware checked it may call the API).
fn calling_tenant(caller: &Caller) -> Result<Arc<Tenant>, ApiError> {
    caller.tenant.clone().ok_or_else(|| ApiError::forbidden("the API key belongs to no tenant; use a tenant's key"))
}

/// The sanitizers `names` (from a tenant's policy) at `stage`, with their options.
fn chain(
    state: &AppState,
    names: &[String],
    stage: Stage,
    options: &BTreeMap<String, String>,
) -> Result<SanitizerChain, ApiError> {
    let plugins = state.plugins.current();
    let links = names
        .iter()
        .map(|name| {
            let plugin = plugins.get(name).and_then(|plugin| plugin.sanitizer().cloned()).ok_or_else(|| {
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "policy_unavailable",
                    format!("the tenant's policy names sanitizer `{name}`, which is not loaded"),
                )
            })?;
            // The operator's options, then the tenant's, each only where the plugin declares it.
            let mut chosen = state.config.sanitizers.get(name).map(|config| config.options.clone()).unwrap_or_default();
            chosen.extend(
                options
                    .iter()
                    .filter(|(key, _)| plugin.manifest().options.contains_key(*key))
                    .map(|(k, v)| (k.clone(), v.clone())),
            );
            Ok((plugin, SanitizeRequest { stage, content_type: "text/plain".into(), options: chosen }))
        })
        .collect::<Result<_, ApiError>>()?;
    Ok(SanitizerChain::new(links))
}

/// Runs the tenant's input sanitizers over every user text: findings are kept for the
/// audit record; a block refuses the request (403 `input_blocked`).
async fn guard_input(
    state: &AppState,
    tenant: &Tenant,
    request: &mut GenerateRequest,
    findings: &mut Vec<String>,
) -> Result<(), ApiError> {
    let options = BTreeMap::from([("action".to_owned(), tenant.policy.input_action.as_str().to_owned())]);
    let chain = chain(state, &tenant.policy.input_sanitizers, Stage::Input, &options)?;
    for message in request.messages.iter_mut().filter(|message| message.role == Role::User) {
        for part in &mut message.parts {
            let Part::Text(text) = part else { continue };
            let sanitized = chain.sanitize(text).await?;
            findings.extend(sanitized.findings.into_iter().map(|finding| finding.rule));
            if let Some(reason) = sanitized.blocked {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "input_blocked",
                    format!("the prompt was refused: {reason}"),
                ));
            }
            *text = sanitized.text;
        }
    }
    Ok(())
}

/// `POST /v1/chat/completions`: a chat completion, whole (`chat.completion`) or, with
/// `"stream": true`, as server-sent `chat.completion.chunk`s ending with `[DONE]`.
#[utoipa::path(post, path = "/v1/chat/completions", tag = "gateway", request_body = ChatBody, responses(
    (status = 200, description = "The answer.", content(
        (ChatCompletion = "application/json"),
        (String = "text/event-stream"),
    )),
    (status = 400, description = "Invalid request (or the upstream refused it as such).", body = ErrorBody),
    (status = 401, description = "No valid API key (or the upstream refused the key).", body = ErrorBody),
    (status = 403, description = "Refused: not a tenant's key, the tenant's policy, an input sanitizer, egress.", body = ErrorBody),
    (status = 404, description = "No such model (for this tenant), or the upstream has none.", body = ErrorBody),
    (status = 413, description = "The request (or the upstream request) is too large.", body = ErrorBody),
    (status = 422, description = "Invalid JSON fields (or the upstream refused them).", body = ErrorBody),
    (status = 429, description = "A rate limit or quota of the key or tenant, or the upstream's.", body = ErrorBody),
    (status = 500, description = "A plugin failed.", body = ErrorBody),
    (status = 502, description = "The upstream failed.", body = ErrorBody),
    (status = 503, description = "No free instance slot, or a sanitizer of the policy is not loaded.", body = ErrorBody),
    (status = 504, description = "The tenant's request timeout, or the upstream's.", body = ErrorBody),
))]
pub async fn chat_completions(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    ApiJson(body): ApiJson<ChatBody>,
) -> Result<Response, ApiError> {
    let request_id = current_request_id().unwrap_or_default();
    let checked = calling_tenant(&caller).and_then(|tenant| {
        let request = body.to_request(&state.image_limits)?;
        let routes = routing::resolve(&state, &tenant, &body.model)?;
        Ok((tenant, request, routes))
    });
    let (tenant, mut request, routes) = match checked {
        Ok(checked) => checked,
        Err(error) => return Err(refused(&state, &caller, &request_id, &body.model, error).await),
    };
    let admission = state.tenancy.admit(&caller, &request_id).await?;
    let mut call = Call { state: state.clone(), admission: Some(admission), outcome: Outcome::default() };
    call.outcome.model.clone_from(&body.model);
    let timeout = tenant.quotas.request_timeout_secs.map(|secs| Duration::from_secs(u64::from(secs)));
    let output_chain = chain(&state, &tenant.policy.output_sanitizers, Stage::Output, &BTreeMap::new());
    let started = async {
        guard_input(&state, &tenant, &mut request, &mut call.outcome.findings).await?;
        let output = output_chain?;
        let started = routing::start(&state, &tenant, &routes, &request).await.map_err(|(route, error)| {
            call.outcome.provider = route.provider.name().to_owned();
            call.outcome.plugins = vec![route.plugin_id(&state)];
            error
        })?;
        Ok::<_, ApiError>((started, output))
    };
    let started = match timeout {
        Some(limit) => tokio::time::timeout(limit, started).await.unwrap_or_else(|_| Err(timed_out())),
        None => started.await,
    };
    let (started, output) = match started {
        Ok(started) => started,
        Err(error) => return Err(call.fail(error).await),
    };
    call.outcome.provider = started.route.provider.name().to_owned();
    call.outcome.model.clone_from(&started.route.model);
    call.outcome.plugins = std::iter::once(started.route.plugin_id(&state)).chain(output.versions()).collect();
    let envelope = Envelope {
        id: format!("chatcmpl-{}", uuid::Uuid::new_v4().simple()),
        created: crate::tenancy::limits::unix_now(),
        model: body.model.clone(),
    };
    let deadline = timeout.map(|limit| tokio::time::Instant::now() + limit);
    if body.stream {
        Ok(stream(call, started, output, envelope, body.include_usage(), deadline).await)
    } else {
        whole(call, started, output, envelope, deadline).await
    }
}

/// Records a call refused before it was admitted, and returns the refusal.
async fn refused(state: &AppState, caller: &Caller, request_id: &str, model: &str, error: ApiError) -> ApiError {
    let mut event = AuditEvent::new("chat.refused", error.status().as_u16());
    event.request_id = Some(request_id.to_owned());
    event.tenant.clone_from(&caller.principal.tenant);
    event.key_prefix = Some(caller.principal.key_prefix.clone());
    event.model = Some(model.to_owned());
    event.detail = Some(error.message().to_owned());
    state.tenancy.audit().record(event).await;
    error
}

fn timed_out() -> ApiError {
    ApiError::new(StatusCode::GATEWAY_TIMEOUT, "timeout", "the request took longer than the tenant's request timeout")
}

/// One admitted call; finishing it records its outcome.
struct Call {
    state: AppState,
    admission: Option<Admission>,
    outcome: Outcome,
}

impl Call {
    async fn finish(&mut self, status: u16) {
        self.outcome.status = status;
        self.outcome.cost_micro_usd = self.state.config.gateway.cost_micro_usd(
            &self.outcome.model,
            self.outcome.prompt_tokens,
            self.outcome.completion_tokens,
        );
        if let Some(admission) = self.admission.take() {
            self.state.tenancy.finish(admission, std::mem::take(&mut self.outcome)).await;
        }
    }

    async fn fail(mut self, error: ApiError) -> ApiError {
        self.outcome.detail = Some(error.message().to_owned());
        self.finish(error.status().as_u16()).await;
        error
    }

    fn count(&mut self, chunk: &Chunk) {
        if let Chunk::Usage { prompt_tokens, completion_tokens } = chunk {
            self.outcome.prompt_tokens = *prompt_tokens;
            self.outcome.completion_tokens = *completion_tokens;
        }
    }
}

/// The next chunk, or a timeout at `deadline`.
async fn next_chunk(
    generation: &mut crate::runtime::Generation,
    deadline: Option<tokio::time::Instant>,
) -> Result<Option<Chunk>, ApiError> {
    let next = generation.next();
    match deadline {
        Some(deadline) => tokio::time::timeout_at(deadline, next).await.map_err(|_| timed_out())?,
        None => next.await,
    }
    .map_err(ApiError::from)
}

async fn whole(
    mut call: Call,
    started: Started,
    output: SanitizerChain,
    envelope: Envelope,
    deadline: Option<tokio::time::Instant>,
) -> Result<Response, ApiError> {
    let Started { mut generation, first, .. } = started;
    let mut text = String::new();
    let mut finish_reason = "stop";
    let mut next = Ok(first);
    loop {
        match next {
            Ok(None) => break,
            Ok(Some(chunk)) => {
                call.count(&chunk);
                match chunk {
                    Chunk::Text { text: piece } => text.push_str(&piece),
                    Chunk::Finished { reason } => finish_reason = reason,
                    // Reasoning passes no output sanitizer, so it is not forwarded.
                    Chunk::Usage { .. } | Chunk::Reasoning { .. } => {}
                }
            }
            Err(error) => return Err(call.fail(error).await),
        }
        next = next_chunk(&mut generation, deadline).await;
    }
    let sanitized = match output.sanitize(&text).await {
        Ok(sanitized) => sanitized,
        Err(error) => return Err(call.fail(error.into()).await),
    };
    call.outcome.findings.extend(sanitized.findings.into_iter().map(|finding| finding.rule));
    if sanitized.blocked.is_some() {
        finish_reason = "content_filter";
    }
    let usage = Usage::new(call.outcome.prompt_tokens, call.outcome.completion_tokens);
    call.finish(200).await;
    Ok(Json(envelope.completion(&sanitized.text, finish_reason, usage)).into_response())
}

fn data(value: &Value) -> Event {
    Event::default().data(value.to_string())
}

async fn stream(
    mut call: Call,
    started: Started,
    output: SanitizerChain,
    envelope: Envelope,
    include_usage: bool,
    deadline: Option<tokio::time::Instant>,
) -> Response {
    let (sender, receiver) = tokio::sync::mpsc::channel::<Event>(16);
    tokio::spawn(async move {
        let Started { mut generation, first, .. } = started;
        let role = data(&envelope.chunk(json!({ "role": "assistant", "content": "" }), None));
        let mut sanitizing = match output.stream().await {
            Ok(sanitizing) => sanitizing,
            Err(error) => return send_error(&sender, call.fail(error.into()).await).await,
        };
        if sender.send(role).await.is_err() {
            return client_left(call).await;
        }
        let mut finish_reason = "stop";
        let mut next = Ok(first);
        loop {
            let chunk = match next {
                Ok(Some(chunk)) => chunk,
                Ok(None) => break,
                Err(error) => return send_error(&sender, call.fail(error).await).await,
            };
            call.count(&chunk);
            match chunk {
                Chunk::Text { text } => match sanitizing.push(&text).await {
                    Ok(clean) if clean.is_empty() => {}
                    Ok(clean) => {
                        if sender.send(data(&envelope.chunk(json!({ "content": clean }), None))).await.is_err() {
                            return client_left(call).await;
                        }
                    }
                    Err(error) => return send_error(&sender, call.fail(error.into()).await).await,
                },
                Chunk::Finished { reason } => finish_reason = reason,
                Chunk::Usage { .. } | Chunk::Reasoning { .. } => {}
            }
            next = next_chunk(&mut generation, deadline).await;
        }
        if let Err(error) = finish_stream(&mut call, sanitizing, &sender, &envelope, &mut finish_reason).await {
            return send_error(&sender, call.fail(error).await).await;
        }
        let mut closing = vec![data(&envelope.chunk(json!({}), Some(finish_reason)))];
        if include_usage {
            closing.push(data(
                &envelope.usage_chunk(Usage::new(call.outcome.prompt_tokens, call.outcome.completion_tokens)),
            ));
        }
        call.finish(200).await;
        closing.push(Event::default().data("[DONE]"));
        for event in closing {
            if sender.send(event).await.is_err() {
                return;
            }
        }
    });
    super::sse_response(receiver, |event| event)
}

/// Sends the sanitizers' held-back tail and keeps their findings.
async fn finish_stream(
    call: &mut Call,
    sanitizing: ChainStream,
    sender: &tokio::sync::mpsc::Sender<Event>,
    envelope: &Envelope,
    finish_reason: &mut &'static str,
) -> Result<(), ApiError> {
    let end = sanitizing.finish().await?;
    call.outcome.findings.extend(end.findings.into_iter().map(|finding| finding.rule));
    if end.blocked.is_some() {
        *finish_reason = "content_filter";
    } else if !end.tail.is_empty() {
        let _ = sender.send(data(&envelope.chunk(json!({ "content": end.tail }), None))).await;
    }
    Ok(())
}

/// Ends a stream that failed after it started: an error event in OpenAI's shape.
async fn send_error(sender: &tokio::sync::mpsc::Sender<Event>, error: ApiError) {
    let _ = sender.send(data(&error.json())).await;
}

async fn client_left(mut call: Call) {
    call.outcome.detail = Some("the client closed the stream".into());
    call.finish(499).await;
}

/// A model in OpenAI's shape.
#[derive(Debug, Serialize, ToSchema)]
pub struct ModelObject {
    /// An alias, or `provider/model`.
    id: String,
    /// `model`.
    object: &'static str,
    /// Always 0.
    created: i64,
    /// `airlock` for an alias, else the provider.
    owned_by: String,
}

impl ModelObject {
    fn new(id: String, owned_by: &str) -> Self {
        Self { id, object: "model", created: 0, owned_by: owned_by.to_owned() }
    }
}

/// `GET /v1/models`' answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct ModelPage {
    /// `list`.
    object: &'static str,
    /// The models.
    data: Vec<ModelObject>,
}

/// `GET /v1/models`: the models the caller's tenant may use.
#[utoipa::path(get, path = "/v1/models", tag = "gateway", responses(
    (status = 200, description = "The models.", body = ModelPage),
))]
pub async fn list_models(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
) -> Result<Json<ModelPage>, ApiError> {
    let tenant = calling_tenant(&caller)?;
    let plugins = state.plugins.current();
    let mut data: Vec<ModelObject> = state
        .config
        .gateway
        .models
        .keys()
        .filter(|alias| routing::resolve(&state, &tenant, alias).is_ok())
        .map(|alias| ModelObject::new(alias.clone(), "airlock"))
        .collect();
    for provider in plugins.iter().filter_map(|plugin| plugin.provider()) {
        for model in &provider.manifest().models {
            if tenant.policy.allows(provider.name(), &model.id, None) {
                data.push(ModelObject::new(format!("{}/{}", provider.name(), model.id), provider.name()));
            }
        }
    }
    Ok(Json(ModelPage { object: "list", data }))
}
