//! One variant of a generation: the provider streams, the output sanitizers clean each
//! piece before it is sent on, and the finished page is extracted and sanitized whole.

use std::sync::Arc;
use std::time::Instant;

use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::extract::extract_code;
use super::output::OutputSanitizers;
use super::record::{Generations, VariantRecord, VariantStatus};
use super::stack::Stack;
use crate::api::ApiError;
use crate::runtime::{CallError, Chunk, GenerateRequest, ProviderPlugin, RequestKey};

/// An event of a generation's stream.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// `generation.created`, `variant.chunk`, `variant.completed`, `variant.failed`,
    /// `generation.completed`.
    pub name: &'static str,
    /// Its data.
    pub data: Value,
}

/// What one variant runs with.
pub struct VariantJob {
    /// Its index in the generation.
    pub index: usize,
    /// The generation's id.
    pub generation: String,
    /// The provider.
    pub provider: Arc<ProviderPlugin>,
    /// What to ask it.
    pub request: GenerateRequest,
    /// The caller's own key, if any.
    pub own_key: Option<String>,
    /// The target stack.
    pub stack: Stack,
    /// The sanitizers.
    pub output: OutputSanitizers,
    /// Where records are kept.
    pub records: Arc<Generations>,
}

/// Why a variant stopped early.
enum Stop {
    /// It failed; the error as the API shows it.
    Failed(ApiError),
    /// The client went away.
    Gone,
}

impl From<CallError> for Stop {
    fn from(error: CallError) -> Self {
        Stop::Failed(ApiError::from(error))
    }
}

/// Runs the variant, sending its events; a closed channel (the client left) stops it,
/// which drops the upstream stream.
pub async fn run(job: VariantJob, events: mpsc::Sender<Event>) {
    let started = Instant::now();
    let index = job.index;
    let outcome = stream(&job, &events).await;
    let duration_ms = Some(u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX));
    match outcome {
        Ok(()) => job.records.update_variant(&job.generation, index, |v| v.duration_ms = duration_ms),
        Err(Stop::Gone) => job.records.update_variant(&job.generation, index, |v| {
            v.status = VariantStatus::Failed;
            v.error = Some("the client went away".into());
        }),
        Err(Stop::Failed(error)) => {
            job.records.update_variant(&job.generation, index, |v: &mut VariantRecord| {
                v.status = VariantStatus::Failed;
                v.error = Some(error.message().to_owned());
                v.duration_ms = duration_ms;
            });
            let _ = events
                .send(Event { name: "variant.failed", data: json!({ "index": index, "error": error.json()["error"] }) })
                .await;
        }
    }
}

/// The variant's failure when an output sanitizer blocked its stream or its page: what
/// was streamed must be discarded, and nothing is stored.
fn blocked(reason: &str) -> Stop {
    let message = format!("the output sanitizers blocked this page: {reason}");
    Stop::Failed(ApiError::new(axum::http::StatusCode::UNPROCESSABLE_ENTITY, "output_blocked", message))
}

async fn stream(job: &VariantJob, events: &mpsc::Sender<Event>) -> Result<(), Stop> {
    let index = job.index;
    let send = |event: Event| async move { events.send(event).await.map_err(|_| Stop::Gone) };
    let mut clean = job.output.stream(job.stack).await?;
    let mut generation = job.provider.generate(&job.request, job.own_key.clone().map(RequestKey::new)).await?;
    let mut answer = String::new();
    let mut usage = None;
    while let Some(chunk) = generation.next().await? {
        match chunk {
            Chunk::Text { text } => {
                answer.push_str(&text);
                let text = clean.push(&text).await?;
                if !text.is_empty() {
                    send(Event { name: "variant.chunk", data: json!({ "index": index, "text": text }) }).await?;
                }
            }
            Chunk::Usage { prompt_tokens, completion_tokens } => usage = Some((prompt_tokens, completion_tokens)),
            // Reasoning is not part of the page; the screenshot flow does not show it.
            Chunk::Reasoning { .. } | Chunk::Finished { .. } => {}
        }
    }
    drop(generation);
    let end = clean.finish().await?;
    if let Some(reason) = end.blocked {
        return Err(blocked(&reason));
    }
    if !end.tail.is_empty() {
        send(Event { name: "variant.chunk", data: json!({ "index": index, "text": end.tail }) }).await?;
    }
    let page = job.output.page(&extract_code(&answer), job.stack).await?;
    if let Some(reason) = page.blocked {
        return Err(blocked(&reason));
    }
    let usage_json =
        usage.map(|(prompt, completion)| json!({ "prompt_tokens": prompt, "completion_tokens": completion }));
    job.records.update_variant(&job.generation, index, |v| {
        v.status = VariantStatus::Completed;
        v.code = Some(page.code.clone());
        v.findings = page.findings.clone();
        v.usage = usage;
    });
    let data = json!({
        "index": index, "provider": job.provider.name(), "model": job.request.model,
        "code": page.code, "findings": page.findings, "usage": usage_json,
    });
    send(Event { name: "variant.completed", data }).await
}
