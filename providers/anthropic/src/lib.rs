//! The bundled `anthropic` provider: Anthropic's Messages API, streamed, with base64
//! image blocks.
//!
//! The key goes in `x-api-key`, added by the host; the guest sets `anthropic-version`.

use airlock_pdk::provider::http::{self, Request};
use airlock_pdk::provider::stream::{self, Decoded, EventDecoder, SseGeneration};
use airlock_pdk::provider::{
    Chunk, ContentPart, CredentialPlacement, FinishReason, GenerateRequest, HeaderCredential, Message, ModelInfo,
    ParamNames, PluginError, Provider, ProviderManifest, Role, Usage, base64_image, set_params,
};
use airlock_pdk::sse::SseEvent;
use serde_json::{Value, json};

const BASE_URL: &str = "https://api.anthropic.com";
const API_VERSION: &str = "2023-06-01";
/// Anthropic requires `max_tokens`; this is used when the request sets none.
const DEFAULT_MAX_TOKENS: u32 = 8192;

struct Anthropic;

impl Provider for Anthropic {
    type Generation = SseGeneration<MessagesDecoder>;

    fn manifest() -> ProviderManifest {
        let model = |id: &str| ModelInfo { id: id.into(), vision: true, context_window: Some(200_000) };
        ProviderManifest {
            name: "anthropic".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "Anthropic Messages API (streaming, image input)".into(),
            models: vec![model("claude-sonnet-4-5"), model("claude-opus-4-1"), model("claude-3-5-haiku-latest")],
            hosts: vec!["api.anthropic.com".into()],
            credential: CredentialPlacement::Header(HeaderCredential {
                name: "x-api-key".into(),
                format: "{key}".into(),
            }),
            options: Vec::new(),
        }
    }

    fn generate(request: GenerateRequest) -> Result<Self::Generation, PluginError> {
        let base = request.base_url.as_deref().unwrap_or(BASE_URL).trim_end_matches('/');
        let request = Request::post_json(format!("{base}/v1/messages"), body(&request))
            .header("anthropic-version", API_VERSION)
            .header("accept", "text/event-stream");
        stream::start(http::send(request)?, MessagesDecoder::default())
    }
}

fn body(request: &GenerateRequest) -> Value {
    let system: Vec<&str> = request
        .messages
        .iter()
        .filter(|m| matches!(m.role, Role::System))
        .flat_map(|m| m.content.iter())
        .filter_map(|part| match part {
            ContentPart::Text(text) => Some(text.as_str()),
            ContentPart::Image(_) => None,
        })
        .collect();
    let messages: Vec<Value> =
        request.messages.iter().filter(|m| !matches!(m.role, Role::System)).map(message).collect();
    let mut body = json!({
        "model": request.model,
        "max_tokens": DEFAULT_MAX_TOKENS,
        "messages": messages,
        "stream": true,
    });
    if !system.is_empty() {
        body["system"] = json!(system.join("\n\n"));
    }
    let names =
        ParamNames { max_tokens: "max_tokens", temperature: "temperature", top_p: "top_p", stop: "stop_sequences" };
    set_params(&mut body, &request.params, &names);
    body
}

fn message(message: &Message) -> Value {
    let role = if matches!(message.role, Role::Assistant) { "assistant" } else { "user" };
    let content: Vec<Value> = message
        .content
        .iter()
        .map(|part| match part {
            ContentPart::Text(text) => json!({ "type": "text", "text": text }),
            ContentPart::Image(image) => json!({
                "type": "image",
                "source": { "type": "base64", "media_type": image.media_type, "data": base64_image(image) },
            }),
        })
        .collect();
    json!({ "role": role, "content": content })
}

/// Decodes Messages API stream events.
#[derive(Debug, Default)]
struct MessagesDecoder {
    prompt_tokens: u32,
}

impl EventDecoder for MessagesDecoder {
    fn decode(&mut self, event: &SseEvent) -> Result<Decoded, PluginError> {
        let data = stream::json("Anthropic", event)?;
        let kind =
            if event.event.is_empty() { data.get("type").and_then(Value::as_str).unwrap_or("") } else { &event.event };
        let chunks = match kind {
            "message_start" => {
                self.prompt_tokens = tokens(&data, "/message/usage/input_tokens");
                Vec::new()
            }
            // `text_delta` is the answer, `thinking_delta` reasoning; `signature_delta`,
            // `input_json_delta` (tool use) and `redacted_thinking` blocks carry neither.
            "content_block_delta" => {
                let field = |name: &str| data.pointer(name).and_then(Value::as_str).filter(|t| !t.is_empty());
                match data.pointer("/delta/type").and_then(Value::as_str) {
                    Some("text_delta") => field("/delta/text").map(|t| Chunk::Text(t.to_owned())).into_iter().collect(),
                    Some("thinking_delta") => {
                        field("/delta/thinking").map(|t| Chunk::Reasoning(t.to_owned())).into_iter().collect()
                    }
                    _ => Vec::new(),
                }
            }
            "message_delta" => {
                let mut chunks = vec![Chunk::Usage(Usage {
                    prompt_tokens: self.prompt_tokens,
                    completion_tokens: tokens(&data, "/usage/output_tokens"),
                })];
                match data.pointer("/delta/stop_reason").and_then(Value::as_str) {
                    Some("refusal") => return Err(stream::refused("refusal", "")),
                    Some(reason) => chunks.push(Chunk::Finished(finish_reason(reason))),
                    None => {}
                }
                chunks
            }
            "message_stop" => return Ok(Decoded::End(Vec::new())),
            "error" => {
                let message = data.pointer("/error/message").and_then(Value::as_str).unwrap_or("error event");
                let status = if data.pointer("/error/type").and_then(Value::as_str) == Some("overloaded_error") {
                    529
                } else {
                    502
                };
                return Err(http::upstream(status, format!("Anthropic failed mid-stream: {message}")));
            }
            _ => Vec::new(),
        };
        Ok(Decoded::Chunks(chunks))
    }
}

fn tokens(data: &Value, pointer: &str) -> u32 {
    data.pointer(pointer).and_then(Value::as_u64).and_then(|n| u32::try_from(n).ok()).unwrap_or(0)
}

fn finish_reason(reason: &str) -> FinishReason {
    match reason {
        "end_turn" | "stop_sequence" => FinishReason::Stop,
        "max_tokens" => FinishReason::Length,
        _ => FinishReason::Other,
    }
}

airlock_pdk::export_provider!(Anthropic);
