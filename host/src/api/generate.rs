//! `POST /v1/providers/{name}/generate` streams a provider's answer as server-sent
//! events; `GET /v1/providers` lists the providers, `GET /v1/providers/{name}/models`
//! one provider's models.
//!
//! The stream's events: `chunk` (`{"text"}`), `usage` (`{"prompt_tokens",
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
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::response::sse::Event;
use base64::Engine as _;
use serde::Deserialize;
use serde_json::json;
use zeroize::Zeroizing;

use super::{ApiError, ApiJson, AppState};
use crate::runtime::{Chunk, GenerateRequest, Message, Part, ProviderPlugin, RequestKey, Role};

/// The header carrying a caller's own provider key.
pub const OWN_KEY_HEADER: &str = "x-airlock-provider-key";

/// The body of a generate request.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenerateBody {
    model: String,
    messages: Vec<MessageBody>,
    max_tokens: Option<u32>,
    temperature: Option<f32>,
    top_p: Option<f32>,
    #[serde(default)]
    stop: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MessageBody {
    role: Role,
    content: Content,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Content {
    Text(String),
    Parts(Vec<PartBody>),
}

#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
enum PartBody {
    Text { text: String },
    Image { media_type: String, data: String },
}

impl GenerateBody {
    fn into_request(self) -> Result<GenerateRequest, ApiError> {
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
                            PartBody::Image { media_type, data } => image(index, media_type, &data),
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

fn image(message: usize, media_type: String, data: &str) -> Result<Part, ApiError> {
    if !media_type.starts_with("image/") {
        return Err(ApiError::invalid_request(format!("message {message}: `{media_type}` is not an image media type")));
    }
    let data = base64::engine::general_purpose::STANDARD
        .decode(data)
        .map_err(|error| ApiError::invalid_request(format!("message {message}: the image is not base64: {error}")))?;
    Ok(Part::Image { media_type, data })
}

/// `POST /v1/providers/{name}/generate`.
pub async fn generate(
    State(state): State<AppState>,
    Path(name): Path<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<GenerateBody>,
) -> Result<Response, ApiError> {
    let provider = provider(&state, &name)?;
    let own_key = own_key(&headers)?;
    let request = body.into_request()?;
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

/// `GET /v1/providers/{name}/models`: the provider's models, from the upstream when the
/// provider can ask it.
pub async fn list_models(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let models = provider(&state, &name)?.list_models().await?;
    Ok(Json(json!({ "models": models })))
}

/// `GET /v1/providers`.
pub async fn list_providers(State(state): State<AppState>) -> Json<serde_json::Value> {
    let plugins = state.plugins.current();
    let providers: Vec<_> = plugins
        .iter()
        .filter_map(|plugin| plugin.provider())
        .map(|provider| {
            let manifest = provider.manifest();
            json!({
                "name": manifest.name, "version": manifest.version, "description": manifest.description,
                "models": manifest.models, "hosts": provider.gate().policy().allowed(),
                "key_configured": provider.gate().has_credential(),
            })
        })
        .collect();
    Json(json!({ "providers": providers }))
}
