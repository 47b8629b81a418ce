//! The OpenAI Chat Completions wire format: the request body with image parts as data
//! URLs, and the streamed `chat.completion.chunk` events (`data: {...}` … `data: [DONE]`).
//!
//! Shared by the `openai`, `openai-compatible` (Ollama, vLLM, LM Studio, OpenRouter speak
//! the same format) and `azure-openai` providers.

use airlock_pdk::provider::http::{self, Request};
use airlock_pdk::provider::stream::{self, Decoded, EventDecoder, SseGeneration};
use airlock_pdk::provider::{
    Chunk, ContentPart, FinishReason, GenerateRequest, Message, ParamNames, PluginError, Role, Usage, base64_image,
    set_params,
};
use airlock_pdk::sse::SseEvent;
use serde_json::{Value, json};

/// Sends a streaming chat completion to `{base_url}/chat/completions`.
///
/// # Errors
///
/// As [`http::send`], and `Upstream` for an error status.
pub fn generate(base_url: &str, request: &GenerateRequest) -> Result<SseGeneration<ChatDecoder>, PluginError> {
    let url = format!("{}/chat/completions", base_url.trim_end_matches('/'));
    stream::start(send(Request::post_json(url, body(request)))?, ChatDecoder::default())
}

/// Sends `request` (a POST of [`body`] to a chat completions URL) asking for a stream.
///
/// # Errors
///
/// As [`http::send`].
pub fn send(request: Request) -> Result<http::Response, PluginError> {
    http::send(request.header("accept", "text/event-stream"))
}

/// The request body.
pub fn body(request: &GenerateRequest) -> Value {
    let mut body = json!({
        "model": request.model,
        "messages": request.messages.iter().map(message).collect::<Vec<_>>(),
        "stream": true,
        "stream_options": { "include_usage": true },
    });
    let names = ParamNames { max_tokens: "max_tokens", temperature: "temperature", top_p: "top_p", stop: "stop" };
    set_params(&mut body, &request.params, &names);
    body
}

fn message(message: &Message) -> Value {
    let role = match message.role {
        Role::System => "system",
        Role::User => "user",
        Role::Assistant => "assistant",
    };
    let parts: Vec<Value> = message
        .content
        .iter()
        .map(|part| match part {
            ContentPart::Text(text) => json!({ "type": "text", "text": text }),
            ContentPart::Image(image) => json!({
                "type": "image_url",
                "image_url": { "url": format!("data:{};base64,{}", image.media_type, base64_image(image)) },
            }),
        })
        .collect();
    json!({ "role": role, "content": parts })
}

/// Decodes `chat.completion.chunk` events.
///
/// Reasoning arrives as `delta.reasoning_content` (DeepSeek, vLLM) or `delta.reasoning`
/// (OpenRouter, Ollama); a refusal as `delta.refusal` text, reported when its choice
/// finishes; `finish_reason: content_filter` is the vendor's filter refusing.
#[derive(Debug, Default)]
pub struct ChatDecoder {
    /// The `delta.refusal` text so far.
    refusal: String,
}

impl EventDecoder for ChatDecoder {
    fn decode(&mut self, event: &SseEvent) -> Result<Decoded, PluginError> {
        if event.data.trim() == "[DONE]" {
            return Ok(Decoded::End(Vec::new()));
        }
        let data = stream::json("the upstream", event)?;
        if let Some(error) = data.get("error") {
            let message = error.get("message").and_then(Value::as_str).unwrap_or("error event without a message");
            return Err(http::upstream(502, format!("the upstream failed mid-stream: {message}")));
        }
        let mut chunks = Vec::new();
        for choice in data.get("choices").and_then(Value::as_array).into_iter().flatten() {
            let delta = |field: &str| {
                choice.get("delta").and_then(|delta| delta.get(field)).and_then(Value::as_str).filter(|t| !t.is_empty())
            };
            if let Some(text) = delta("reasoning_content").or_else(|| delta("reasoning")) {
                chunks.push(Chunk::Reasoning(text.to_owned()));
            }
            if let Some(text) = delta("content") {
                chunks.push(Chunk::Text(text.to_owned()));
            }
            if let Some(text) = delta("refusal") {
                self.refusal.push_str(text);
            }
            match choice.get("finish_reason").and_then(Value::as_str) {
                None => {}
                Some(_) if !self.refusal.is_empty() => return Err(stream::refused("refusal", self.refusal.clone())),
                Some("content_filter") => {
                    return Err(stream::refused("content_filter", "the upstream's content filter stopped the answer"));
                }
                Some(reason) => chunks.push(Chunk::Finished(finish_reason(reason))),
            }
        }
        if let Some(usage) = data.get("usage").filter(|usage| usage.is_object()) {
            chunks.push(Chunk::Usage(Usage {
                prompt_tokens: count(usage, "prompt_tokens"),
                completion_tokens: count(usage, "completion_tokens"),
            }));
        }
        Ok(Decoded::Chunks(chunks))
    }
}

fn count(usage: &Value, field: &str) -> u32 {
    usage.get(field).and_then(Value::as_u64).and_then(|n| u32::try_from(n).ok()).unwrap_or(0)
}

fn finish_reason(reason: &str) -> FinishReason {
    match reason {
        "stop" => FinishReason::Stop,
        "length" => FinishReason::Length,
        _ => FinishReason::Other,
    }
}
