//! The bundled `gemini` provider: Google's `streamGenerateContent?alt=sse`, with
//! `inline_data` images.
//!
//! The key goes in the `key` query parameter, added by the host.

use airlock_pdk::provider::http::{self, Request};
use airlock_pdk::provider::stream::{self, Decoded, EventDecoder, SseGeneration};
use airlock_pdk::provider::{
    Chunk, ContentPart, CredentialPlacement, FinishReason, GenerateRequest, Message, ModelInfo, ParamNames,
    PluginError, Provider, ProviderManifest, Role, Usage, base64_image, set_params,
};
use airlock_pdk::sse::SseEvent;
use serde_json::{Value, json};

const BASE_URL: &str = "https://generativelanguage.googleapis.com";

struct Gemini;

impl Provider for Gemini {
    type Generation = SseGeneration<GeminiDecoder>;

    fn manifest() -> ProviderManifest {
        let model = |id: &str| ModelInfo { id: id.into(), vision: true, context_window: Some(1_048_576) };
        ProviderManifest {
            name: "gemini".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "Google Gemini streamGenerateContent (streaming, image input)".into(),
            models: vec![model("gemini-2.5-pro"), model("gemini-2.5-flash")],
            hosts: vec!["generativelanguage.googleapis.com".into()],
            credential: CredentialPlacement::Query("key".into()),
            options: Vec::new(),
        }
    }

    fn generate(request: GenerateRequest) -> Result<Self::Generation, PluginError> {
        if request.model.is_empty() || !request.model.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b))
        {
            return Err(PluginError::InvalidRequest(format!("`{}` is not a Gemini model name", request.model)));
        }
        let base = request.base_url.as_deref().unwrap_or(BASE_URL).trim_end_matches('/');
        let url = format!("{base}/v1beta/models/{}:streamGenerateContent?alt=sse", request.model);
        let request = Request::post_json(url, body(&request)).header("accept", "text/event-stream");
        stream::start(http::send(request)?, GeminiDecoder)
    }
}

fn body(request: &GenerateRequest) -> Value {
    let system: Vec<Value> = request
        .messages
        .iter()
        .filter(|m| matches!(m.role, Role::System))
        .flat_map(|m| m.content.iter())
        .filter_map(|part| match part {
            ContentPart::Text(text) => Some(json!({ "text": text })),
            ContentPart::Image(_) => None,
        })
        .collect();
    let contents: Vec<Value> =
        request.messages.iter().filter(|m| !matches!(m.role, Role::System)).map(content).collect();
    let mut config = json!({});
    let names =
        ParamNames { max_tokens: "maxOutputTokens", temperature: "temperature", top_p: "topP", stop: "stopSequences" };
    set_params(&mut config, &request.params, &names);
    let mut body = json!({ "contents": contents, "generationConfig": config });
    if !system.is_empty() {
        body["systemInstruction"] = json!({ "parts": system });
    }
    body
}

fn content(message: &Message) -> Value {
    let role = if matches!(message.role, Role::Assistant) { "model" } else { "user" };
    let parts: Vec<Value> = message
        .content
        .iter()
        .map(|part| match part {
            ContentPart::Text(text) => json!({ "text": text }),
            ContentPart::Image(image) => {
                json!({ "inline_data": { "mime_type": image.media_type, "data": base64_image(image) } })
            }
        })
        .collect();
    json!({ "role": role, "parts": parts })
}

/// Decodes `GenerateContentResponse` events; the stream ends when the body does.
#[derive(Debug, Default)]
struct GeminiDecoder;

impl EventDecoder for GeminiDecoder {
    fn decode(&mut self, event: &SseEvent) -> Result<Decoded, PluginError> {
        let data = stream::json("Gemini", event)?;
        if let Some(message) = data.pointer("/error/message").and_then(Value::as_str) {
            return Err(http::upstream(502, format!("Gemini failed mid-stream: {message}")));
        }
        let text = |value: &Value, field: &str| value.get(field).and_then(Value::as_str).unwrap_or("").to_owned();
        if let Some(feedback) = data.get("promptFeedback").filter(|feedback| feedback.get("blockReason").is_some()) {
            return Err(stream::refused(&text(feedback, "blockReason"), text(feedback, "blockReasonMessage")));
        }
        let mut chunks = Vec::new();
        for candidate in data.get("candidates").and_then(Value::as_array).into_iter().flatten() {
            let parts = candidate.pointer("/content/parts").and_then(Value::as_array).into_iter().flatten();
            for part in parts {
                let Some(piece) = part.get("text").and_then(Value::as_str).filter(|t| !t.is_empty()) else { continue };
                // `thought: true` marks a thought summary of a thinking model.
                let thought = part.get("thought").and_then(Value::as_bool).unwrap_or(false);
                chunks.push(if thought { Chunk::Reasoning(piece.to_owned()) } else { Chunk::Text(piece.to_owned()) });
            }
            match candidate.get("finishReason").and_then(Value::as_str) {
                Some(reason) if BLOCKED.contains(&reason) => {
                    return Err(stream::refused(reason, text(candidate, "finishMessage")));
                }
                Some(reason) => chunks.push(Chunk::Finished(finish_reason(reason))),
                None => {}
            }
        }
        if let Some(usage) = data.get("usageMetadata") {
            let count = |field| usage.get(field).and_then(Value::as_u64).and_then(|n| u32::try_from(n).ok());
            if let Some(completion) = count("candidatesTokenCount") {
                chunks.push(Chunk::Usage(Usage {
                    prompt_tokens: count("promptTokenCount").unwrap_or(0),
                    completion_tokens: completion,
                }));
            }
        }
        Ok(Decoded::Chunks(chunks))
    }
}

/// The `finishReason`s of an answer the vendor's safety system stopped.
const BLOCKED: &[&str] = &[
    "SAFETY",
    "RECITATION",
    "BLOCKLIST",
    "PROHIBITED_CONTENT",
    "SPII",
    "IMAGE_SAFETY",
    "IMAGE_PROHIBITED_CONTENT",
    "IMAGE_RECITATION",
];

fn finish_reason(reason: &str) -> FinishReason {
    match reason {
        "STOP" => FinishReason::Stop,
        "MAX_TOKENS" => FinishReason::Length,
        _ => FinishReason::Other,
    }
}

airlock_pdk::export_provider!(Gemini);
