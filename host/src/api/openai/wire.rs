//! OpenAI's chat-completions wire format: the request as clients send it, converted to
//! a [`GenerateRequest`], and the response objects (whole and streamed chunks).

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::api::ApiError;
use crate::generation::ImageLimits;
use crate::runtime::{GenerateRequest, Message, Part, Role};

/// `POST /v1/chat/completions`' body. Fields OpenAI defines that Airlock does not use
/// (e.g. `user`, `seed`) are accepted and ignored, as OpenAI's own clients send them.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({ "model": "openai-compatible/gpt-4o", "messages": [{ "role": "user", "content": "Say hello." }] }))]
pub struct ChatBody {
    /// A model alias, `provider/model`, or a model id a provider lists.
    pub model: String,
    /// The conversation; at least one message.
    messages: Vec<ChatMessage>,
    /// Stream the answer as server-sent events.
    #[serde(default)]
    pub stream: bool,
    stream_options: Option<StreamOptions>,
    /// Most tokens to generate.
    max_tokens: Option<u32>,
    /// Most tokens to generate (preferred over `max_tokens`).
    max_completion_tokens: Option<u32>,
    /// Sampling temperature.
    temperature: Option<f32>,
    /// Nucleus sampling.
    top_p: Option<f32>,
    stop: Option<Stop>,
    /// How many answers; only 1 is supported.
    n: Option<u32>,
}

/// Options of a streamed answer.
#[derive(Debug, Deserialize, ToSchema)]
struct StreamOptions {
    /// End the stream with a usage chunk.
    #[serde(default)]
    include_usage: bool,
}

/// Sequences that end the answer: one or several.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(untagged)]
enum Stop {
    One(String),
    Many(Vec<String>),
}

/// One message.
#[derive(Debug, Deserialize, ToSchema)]
struct ChatMessage {
    /// `system`, `developer`, `user` or `assistant`.
    role: String,
    content: Option<ChatContent>,
}

/// A message's content: a text, or parts.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(untagged)]
enum ChatContent {
    Text(String),
    Parts(Vec<ChatPart>),
}

/// A text, or an image as an inline `data:image/…;base64,…` URL.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ChatPart {
    Text { text: String },
    ImageUrl { image_url: ImageUrl },
}

/// An image's URL (only inline `data:` URLs).
#[derive(Debug, Deserialize, ToSchema)]
struct ImageUrl {
    url: String,
}

impl ChatBody {
    /// Whether the stream ends with a usage chunk (`stream_options.include_usage`).
    pub fn include_usage(&self) -> bool {
        self.stream_options.as_ref().is_some_and(|options| options.include_usage)
    }

    /// The request for a provider (its `model` set per route), with every image checked.
    ///
    /// # Errors
    ///
    /// 400 for what a provider cannot be asked: no messages, an unknown role, a tool
    /// message, `n` > 1, an image that is not an inline `data:` URL or fails its checks.
    pub fn to_request(&self, limits: &ImageLimits) -> Result<GenerateRequest, ApiError> {
        if self.messages.is_empty() {
            return Err(ApiError::invalid_request("`messages` is empty"));
        }
        if self.n.is_some_and(|n| n != 1) {
            return Err(ApiError::invalid_request("`n` other than 1 is not supported"));
        }
        let messages = self
            .messages
            .iter()
            .enumerate()
            .map(|(index, message)| convert(index, message, limits))
            .collect::<Result<_, _>>()?;
        let stop = match &self.stop {
            None => Vec::new(),
            Some(Stop::One(stop)) => vec![stop.clone()],
            Some(Stop::Many(stops)) => stops.clone(),
        };
        Ok(GenerateRequest {
            model: self.model.clone(),
            messages,
            max_tokens: self.max_completion_tokens.or(self.max_tokens),
            temperature: self.temperature,
            top_p: self.top_p,
            stop,
        })
    }
}

fn convert(index: usize, message: &ChatMessage, limits: &ImageLimits) -> Result<Message, ApiError> {
    let role = match message.role.as_str() {
        "system" | "developer" => Role::System,
        "user" => Role::User,
        "assistant" => Role::Assistant,
        other => {
            return Err(ApiError::invalid_request(format!("messages[{index}]: role `{other}` is not supported")));
        }
    };
    let parts = match &message.content {
        None => Vec::new(),
        Some(ChatContent::Text(text)) => vec![Part::Text(text.clone())],
        Some(ChatContent::Parts(parts)) => parts
            .iter()
            .map(|part| match part {
                ChatPart::Text { text } => Ok(Part::Text(text.clone())),
                ChatPart::ImageUrl { image_url } => image(index, &image_url.url, limits),
            })
            .collect::<Result<_, _>>()?,
    };
    Ok(Message { role, parts })
}

fn image(index: usize, url: &str, limits: &ImageLimits) -> Result<Part, ApiError> {
    let refuse = |why: String| ApiError::invalid_request(format!("messages[{index}]: {why}"));
    let payload = url
        .strip_prefix("data:")
        .and_then(|rest| rest.split_once(";base64,"))
        .ok_or_else(|| refuse("images must be inline `data:image/…;base64,…` URLs (Airlock fetches no URLs)".into()))?
        .1;
    crate::api::generate::checked_image(payload, limits).map_err(refuse)
}

/// The fields every response object shares.
#[derive(Debug, Clone)]
pub struct Envelope {
    /// `chatcmpl-…`.
    pub id: String,
    /// Unix seconds.
    pub created: i64,
    /// The model as the caller named it.
    pub model: String,
}

/// Token counts in OpenAI's shape.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub struct Usage {
    /// Tokens in the prompt.
    prompt_tokens: u32,
    /// Tokens in the answer.
    completion_tokens: u32,
    /// Their sum.
    total_tokens: u64,
}

impl Usage {
    /// The counts and their total.
    pub fn new(prompt_tokens: u32, completion_tokens: u32) -> Self {
        Self { prompt_tokens, completion_tokens, total_tokens: u64::from(prompt_tokens) + u64::from(completion_tokens) }
    }
}

/// A whole answer: `chat.completion`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChatCompletion {
    /// `chatcmpl-…`.
    id: String,
    /// `chat.completion`.
    #[schema(pattern = "^chat\\.completion$")]
    object: &'static str,
    /// Unix seconds.
    created: i64,
    /// The model as the caller named it.
    model: String,
    /// The one answer.
    choices: Vec<Choice>,
    usage: Usage,
}

/// The answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Choice {
    /// Always 0.
    index: u32,
    message: AssistantMessage,
    /// `stop`, `length`, or `content_filter` (an output sanitizer blocked the answer).
    finish_reason: String,
}

/// The assistant's message.
#[derive(Debug, Serialize, ToSchema)]
pub struct AssistantMessage {
    /// `assistant`.
    role: &'static str,
    /// The sanitized text.
    content: String,
}

impl Envelope {
    /// A whole `chat.completion`.
    pub fn completion(&self, content: &str, finish_reason: &str, usage: Usage) -> ChatCompletion {
        ChatCompletion {
            id: self.id.clone(),
            object: "chat.completion",
            created: self.created,
            model: self.model.clone(),
            choices: vec![Choice {
                index: 0,
                message: AssistantMessage { role: "assistant", content: content.to_owned() },
                finish_reason: finish_reason.to_owned(),
            }],
            usage,
        }
    }

    /// A `chat.completion.chunk` carrying `delta`.
    pub fn chunk(&self, delta: Value, finish_reason: Option<&str>) -> Value {
        json!({
            "id": self.id, "object": "chat.completion.chunk", "created": self.created, "model": self.model,
            "choices": [{ "index": 0, "delta": delta, "finish_reason": finish_reason }],
        })
    }

    /// The last chunk of a stream that asked for usage.
    pub fn usage_chunk(&self, usage: Usage) -> Value {
        json!({
            "id": self.id, "object": "chat.completion.chunk", "created": self.created, "model": self.model,
            "choices": [], "usage": usage,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;

    fn body(value: Value) -> Result<GenerateRequest, ApiError> {
        serde_json::from_value::<ChatBody>(value).unwrap().to_request(&ImageLimits::default())
    }

    #[test]
    fn text_and_image_parts_convert() {
        let png = base64::engine::general_purpose::STANDARD.encode(crate::generation::image_check::tests::png(2, 3));
        let request = body(json!({
            "model": "gpt-4o", "max_tokens": 5, "stop": "END", "user": "ignored",
            "messages": [
                { "role": "developer", "content": "be brief" },
                { "role": "user", "content": [
                    { "type": "text", "text": "what is this?" },
                    { "type": "image_url", "image_url": { "url": format!("data:image/png;base64,{png}"), "detail": "low" } },
                ]},
            ],
        }))
        .unwrap();
        assert_eq!(request.max_tokens, Some(5));
        assert_eq!(request.stop, vec!["END"]);
        assert_eq!(request.messages[0].role, Role::System);
        assert!(matches!(&request.messages[1].parts[1], Part::Image { media_type, .. } if media_type == "image/png"));
    }

    #[test]
    fn what_a_provider_cannot_be_asked_is_a_400() {
        for (value, expected) in [
            (json!({ "model": "m", "messages": [] }), "empty"),
            (json!({ "model": "m", "n": 2, "messages": [{ "role": "user", "content": "x" }] }), "`n`"),
            (json!({ "model": "m", "messages": [{ "role": "tool", "content": "x" }] }), "role `tool`"),
            (
                json!({ "model": "m", "messages": [{ "role": "user", "content": [
                    { "type": "image_url", "image_url": { "url": "http://169.254.169.254/x.png" } }] }] }),
                "inline",
            ),
            (
                json!({ "model": "m", "messages": [{ "role": "user", "content": [
                    { "type": "image_url", "image_url": { "url": "data:image/png;base64,PHN2Zz4=" } }] }] }),
                "messages[0]",
            ),
        ] {
            let error = body(value).unwrap_err();
            assert_eq!(error.status(), 400);
            assert!(error.message().contains(expected), "{}", error.message());
        }
    }
}
