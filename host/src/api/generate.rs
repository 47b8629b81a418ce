//! `POST /v1/providers/{name}/generate` streams a provider's answer as server-sent
//! events; `GET /v1/providers` lists the providers, `GET /v1/providers/{name}/models`
//! one provider's models.
//!
//! The stream's events: `chunk` (`{"text"}`), `reasoning` (`{"text"}`, the model's
//! reasoning or thought summary when it sends one), `usage` (`{"prompt_tokens",
//! "completion_tokens"}`), `finished` (`{"reason"}`), then `done`; or `error`
//! (`{"error": {"type", "message"}}`) when the provider fails mid-stream. A failure
//! before the first event (a refused egress, a rejected key) is a plain JSON error with
//! its status. A client that disconnects ends the generation, which closes the
//! upstream connection.
//!
//! A caller may bring their own key in `x-airlock-provider-key`: it replaces the
//! operator's for this request, goes only to the hosts the operator bound keys to, and
//! is dropped (zeroized) with the request.

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::response::sse::Event;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use zeroize::Zeroizing;

use super::error::ErrorBody;
use super::extract::ApiPath;
use super::{ApiError, ApiJson, AppState};
use crate::generation::{ImageLimits, check_image};
use crate::runtime::{AllowedHost, Chunk, GenerateRequest, Message, ModelInfo, Part, ProviderPlugin, RequestKey, Role};

/// The header carrying a caller's own provider key.
pub const OWN_KEY_HEADER: &str = "x-airlock-provider-key";

/// The body of a generate request.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({ "model": "gpt-4o", "messages": [{ "role": "user", "content": "Say hello." }], "max_tokens": 100 }))]
#[serde(deny_unknown_fields)]
pub struct GenerateBody {
    /// The provider's model id.
    model: String,
    /// The conversation; at least one message.
    messages: Vec<MessageBody>,
    /// Most tokens to generate.
    max_tokens: Option<u32>,
    /// Sampling temperature.
    temperature: Option<f32>,
    /// Nucleus sampling.
    top_p: Option<f32>,
    /// Sequences that end the answer.
    #[serde(default)]
    stop: Vec<String>,
}

/// One message.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct MessageBody {
    role: Role,
    content: Content,
}

/// A message's content: a text, or parts.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(untagged)]
enum Content {
    Text(String),
    Parts(Vec<PartBody>),
}

/// A text or an image (base64).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
enum PartBody {
    Text { text: String },
    Image { media_type: String, data: String },
}

impl GenerateBody {
    fn into_request(self, limits: &ImageLimits) -> Result<GenerateRequest, ApiError> {
        if self.messages.is_empty() {
            return Err(ApiError::invalid_request("`messages` is empty"));
        }
        let messages = self
            .messages
            .into_iter()
            .enumerate()
            .map(|(index, message)| {
                let parts = match message.content {
                    Content::Text(text) => vec![Part::Text(text)],
                    Content::Parts(parts) => parts
                        .into_iter()
                        .map(|part| match part {
                            PartBody::Text { text } => Ok(Part::Text(text)),
                            PartBody::Image { media_type, data } => image(index, &media_type, &data, limits),
                        })
                        .collect::<Result<_, _>>()?,
                };
                Ok(Message { role: message.role, parts })
            })
            .collect::<Result<_, ApiError>>()?;
        Ok(GenerateRequest {
            model: self.model,
            messages,
            max_tokens: self.max_tokens,
            temperature: self.temperature,
            top_p: self.top_p,
            stop: self.stop,
        })
    }
}

fn image(message: usize, media_type: &str, data: &str, limits: &ImageLimits) -> Result<Part, ApiError> {
    let refuse = |why: String| ApiError::invalid_request(format!("message {message}: {why}"));
    if !media_type.starts_with("image/") {
        return Err(refuse(format!("`{media_type}` is not an image media type")));
    }
    checked_image(data, limits).map_err(refuse)
}

/// A base64 image, decoded and checked like a screenshot, as a provider gets it: its
/// media type is the one its bytes show. The error says why, for the caller's message.
pub(super) fn checked_image(base64: &str, limits: &ImageLimits) -> Result<Part, String> {
    let data = base64::engine::general_purpose::STANDARD
        .decode(base64)
        .map_err(|error| format!("the image is not base64: {error}"))?;
    let checked = check_image(&data, limits).map_err(|error| error.to_string())?;
    Ok(Part::Image { media_type: checked.format.media_type().to_owned(), data })
}

/// `POST /v1/providers/{name}/generate`: the provider's answer as server-sent events
/// `chunk` (`{"text"}`), `usage`, `finished` (`{"reason"}`), then `done`, or `error`
/// (the error body) when the provider fails mid-stream.
#[utoipa::path(post, path = "/v1/providers/{name}/generate", tag = "providers", request_body = GenerateBody,
    params(
        ("name" = String, Path, description = "The provider.", example = "openai-compatible"),
        ("x-airlock-provider-key" = Option<String>, Header, description = "The caller's own key for the upstream."),
    ),
    responses(
        (status = 200, description = "The answer, streamed.", content_type = "text/event-stream", body = String),
        (status = 400, description = "Invalid request (or the upstream refused it as such).", body = ErrorBody),
        (status = 401, description = "Unauthorized (or the upstream refused the key).", body = ErrorBody),
        (status = 403, description = "Refused: the key's role, the egress policy, or the plugin.", body = ErrorBody),
        (status = 404, description = "No such provider (or the upstream has no such model).", body = ErrorBody),
        (status = 413, description = "The request (or the upstream request) is too large.", body = ErrorBody),
        (status = 422, description = "Invalid JSON fields (or the upstream refused them).", body = ErrorBody),
        (status = 429, description = "The upstream's rate limit, or the tenant's limit of concurrent streams.", body = ErrorBody),
        (status = 500, description = "The plugin failed.", body = ErrorBody),
        (status = 502, description = "The upstream failed.", body = ErrorBody),
        (status = 503, description = "No free instance slot.", body = ErrorBody),
        (status = 504, description = "The upstream timed out.", body = ErrorBody),
    ))]
pub async fn generate(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<GenerateBody>,
) -> Result<Response, ApiError> {
    let provider = provider(&state, &name)?;
    let own_key = own_key(&headers)?;
    let request = body.into_request(&state.image_limits)?;
    let mut generation = provider.generate(&request, own_key.as_ref().map(|key| RequestKey::new(key.as_str()))).await?;
    drop(own_key);
    let first = generation.next().await?;

    let (sender, receiver) = tokio::sync::mpsc::channel::<Event>(16);
    tokio::spawn(async move {
        let mut next = Ok(first);
        loop {
            let event = match next {
                Ok(Some(chunk)) => chunk_event(&chunk),
                Ok(None) => {
                    let _ = sender.send(Event::default().event("done").data("{}")).await;
                    return;
                }
                Err(error) => {
                    let error = ApiError::from(error);
                    let _ = sender.send(Event::default().event("error").data(error.json().to_string())).await;
                    return;
                }
            };
            // A closed channel means the client went away: dropping the generation
            // closes the upstream connection.
            if sender.send(event).await.is_err() {
                return;
            }
            next = generation.next().await;
        }
    });
    let mut response = super::sse_response(receiver, |event| event);
    super::set_plugins_header(&mut response, &format!("{}@{}", provider.name(), provider.manifest().version));
    Ok(response)
}

/// The caller's own provider key, from [`OWN_KEY_HEADER`]; zeroized when dropped.
///
/// # Errors
///
/// 400 when the header is not visible ASCII.
pub fn own_key(headers: &HeaderMap) -> Result<Option<Zeroizing<String>>, ApiError> {
    headers
        .get(OWN_KEY_HEADER)
        .map(|value| {
            value
                .to_str()
                .map(|key| Zeroizing::new(key.to_owned()))
                .map_err(|_| ApiError::invalid_request(format!("`{OWN_KEY_HEADER}` is not visible ASCII")))
        })
        .transpose()
}

fn chunk_event(chunk: &Chunk) -> Event {
    let (name, data) = match chunk {
        Chunk::Text { text } => ("chunk", json!({ "text": text })),
        Chunk::Reasoning { text } => ("reasoning", json!({ "text": text })),
        Chunk::Usage { prompt_tokens, completion_tokens } => {
            ("usage", json!({ "prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens }))
        }
        Chunk::Finished { reason } => ("finished", json!({ "reason": reason })),
    };
    Event::default().event(name).data(data.to_string())
}

fn provider(state: &AppState, name: &str) -> Result<std::sync::Arc<ProviderPlugin>, ApiError> {
    state
        .plugins
        .current()
        .get(name)
        .and_then(|plugin| plugin.provider().cloned())
        .ok_or_else(|| ApiError::not_found(format!("no provider called `{name}` is loaded")))
}

/// `GET /v1/providers/{name}/models`'s answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct ModelList {
    /// The models.
    models: Vec<ModelInfo>,
}

/// `GET /v1/providers/{name}/models`: the provider's models, from the upstream when the
/// provider can ask it.
#[utoipa::path(get, path = "/v1/providers/{name}/models", tag = "providers",
    params(("name" = String, Path, description = "The provider.", example = "openai-compatible")),
    responses(
        (status = 200, description = "The models.", body = ModelList),
        (status = 400, description = "The upstream refused the request.", body = ErrorBody),
        (status = 403, description = "Refused: the key's role, the egress policy, or the plugin.", body = ErrorBody),
        (status = 404, description = "No such provider.", body = ErrorBody),
        (status = 429, description = "The upstream's rate limit.", body = ErrorBody),
        (status = 500, description = "The plugin failed.", body = ErrorBody),
        (status = 502, description = "The upstream failed.", body = ErrorBody),
        (status = 503, description = "No free instance slot.", body = ErrorBody),
        (status = 504, description = "The upstream timed out.", body = ErrorBody),
    ))]
pub async fn list_models(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
) -> Result<Json<ModelList>, ApiError> {
    let models = provider(&state, &name)?.list_models().await?;
    Ok(Json(ModelList { models }))
}

/// A provider in service.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProviderInfo {
    /// Its name.
    name: String,
    /// Its version.
    version: String,
    /// One line for operators.
    description: String,
    /// The models it knows.
    models: Vec<ModelInfo>,
    /// The hosts it may reach, e.g. `https://api.openai.com:443`.
    #[schema(value_type = Vec<String>)]
    hosts: Vec<AllowedHost>,
    /// Whether the operator configured a key for it.
    key_configured: bool,
    /// The options it accepts (`providers.NAME.options`), each with its help.
    options: std::collections::BTreeMap<String, String>,
}

/// `GET /v1/providers`'s answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProviderList {
    /// The providers.
    providers: Vec<ProviderInfo>,
}

/// `GET /v1/providers`: the providers in service.
#[utoipa::path(get, path = "/v1/providers", tag = "providers", responses(
    (status = 200, description = "The providers.", body = ProviderList),
))]
pub async fn list_providers(State(state): State<AppState>) -> Json<ProviderList> {
    let plugins = state.plugins.current();
    let providers = plugins
        .iter()
        .filter_map(|plugin| plugin.provider())
        .map(|provider| {
            let manifest = provider.manifest();
            ProviderInfo {
                name: manifest.name.clone(),
                version: manifest.version.clone(),
                description: manifest.description.clone(),
                models: manifest.models.clone(),
                hosts: provider.gate().policy().allowed().to_vec(),
                key_configured: provider.gate().has_credential(),
                options: manifest.options.clone(),
            }
        })
        .collect();
    Json(ProviderList { providers })
}
