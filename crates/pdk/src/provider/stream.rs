//! Reading a streamed answer: a response body, split into server-sent events, decoded
//! into chunks by a vendor-specific [`EventDecoder`].
//!
//! A provider sends its request with [`super::http::send`], hands the response to
//! [`start`], and returns the [`SseGeneration`]; error statuses become `Upstream` errors
//! carrying the vendor's own message.
//!
//! A decoder keeps three things apart: answer text ([`Chunk::Text`]), the model's
//! reasoning or thought summaries ([`Chunk::Reasoning`], which the host never mixes into
//! the answer), and a refusal or safety block, which is no answer at all but the typed
//! error [`refused`].

use std::collections::VecDeque;

use super::http::{Response, upstream};
use super::{Chunk, Generation, PluginError, Refusal};
use crate::sse::{SseEvent, SseParser};

/// Largest error body read to find the vendor's message.
const ERROR_BODY_LIMIT: usize = 64 * 1024;

/// What one event meant.
#[derive(Debug, Clone)]
pub enum Decoded {
    /// Zero or more chunks; the stream goes on.
    Chunks(Vec<Chunk>),
    /// These chunks, then the stream is over (e.g. OpenAI's `[DONE]`).
    End(Vec<Chunk>),
}

/// Turns one vendor's events into chunks.
pub trait EventDecoder: 'static {
    /// Decodes one event.
    ///
    /// # Errors
    ///
    /// For malformed data or an error event of the vendor.
    fn decode(&mut self, event: &SseEvent) -> Result<Decoded, PluginError>;
}

/// Checks the status of `response`, then streams its events through `decoder`.
///
/// # Errors
///
/// For an error status: `Upstream` with the status and the vendor's message.
pub fn start<D: EventDecoder>(mut response: Response, decoder: D) -> Result<SseGeneration<D>, PluginError> {
    if !(200..300).contains(&response.status) {
        let body = response.body.read_to_end(ERROR_BODY_LIMIT).unwrap_or_default();
        return Err(upstream(response.status, error_message(response.status, &body, response.header("retry-after"))));
    }
    Ok(SseGeneration {
        response,
        parser: SseParser::new(),
        decoder,
        pending: VecDeque::new(),
        finished: false,
        body_over: false,
        ended: false,
    })
}

/// The vendor's error message from an error body (`{"error": {"message": ...}}` and
/// similar), or a short excerpt of the body; with `retry-after` when the upstream sent
/// one.
pub fn error_message(status: u16, body: &[u8], retry_after: Option<&str>) -> String {
    let json: Option<serde_json::Value> = serde_json::from_slice(body).ok();
    let from_json = json.as_ref().and_then(|json| {
        let error = json.get("error").unwrap_or(json);
        error.get("message").and_then(|m| m.as_str()).map(str::to_owned).or_else(|| error.as_str().map(str::to_owned))
    });
    let mut message = from_json.unwrap_or_else(|| {
        let text = String::from_utf8_lossy(body);
        let excerpt: String = text.trim().chars().take(200).collect();
        if excerpt.is_empty() { format!("status {status} with no message") } else { excerpt }
    });
    if let Some(seconds) = retry_after {
        message.push_str(&format!(" (retry after {seconds} s)"));
    }
    message
}

/// The error for a model, or a vendor's safety system, that declined to answer:
/// `reason` is the vendor's own code (`refusal`, `content_filter`, `SAFETY`, ...),
/// `message` its explanation (empty when it gave none). The host answers it with 422
/// `model_refused` naming both.
pub fn refused(reason: &str, message: impl Into<String>) -> PluginError {
    PluginError::Refused(Refusal { reason: reason.to_owned(), message: message.into() })
}

/// A generation read from a server-sent event stream.
pub struct SseGeneration<D> {
    response: Response,
    parser: SseParser,
    decoder: D,
    pending: VecDeque<Chunk>,
    /// A `finished` chunk was decoded: the answer is whole.
    finished: bool,
    /// The body has ended; what the parser still holds is decoded, then the stream ends.
    body_over: bool,
    ended: bool,
}

impl<D: EventDecoder> Generation for SseGeneration<D> {
    fn next(&mut self) -> Result<Option<Chunk>, PluginError> {
        loop {
            if let Some(chunk) = self.pending.pop_front() {
                return Ok(Some(chunk));
            }
            if self.ended {
                return Ok(None);
            }
            if let Some(event) = self.parser.next_event() {
                let (chunks, end) = match self.decoder.decode(&event)? {
                    Decoded::Chunks(chunks) => (chunks, false),
                    Decoded::End(chunks) => (chunks, true),
                };
                self.finished |= chunks.iter().any(|chunk| matches!(chunk, Chunk::Finished(_)));
                self.pending.extend(chunks);
                self.ended = end;
                continue;
            }
            if self.body_over {
                self.ended = true;
                continue;
            }
            match self.response.body.read()? {
                Some(bytes) => self.parser.push(&bytes),
                None => {
                    // The body is over, with or without the vendor's end marker. As in
                    // the vendors' SDKs, that ends the stream; an event whose lines all
                    // arrived still counts. Half a line means a cut connection, which
                    // is an error only if the answer had not finished (SDKs would end
                    // silently with a truncated answer).
                    if self.parser.end() && !self.finished {
                        return Err(upstream(502, "the upstream's stream was cut before the answer finished".into()));
                    }
                    self.body_over = true;
                }
            }
        }
    }
}

/// Parses an event's data as JSON.
///
/// # Errors
///
/// `Upstream` (502) naming the vendor when the data is not JSON.
pub fn json(vendor: &str, event: &SseEvent) -> Result<serde_json::Value, PluginError> {
    serde_json::from_str(&event.data)
        .map_err(|error| upstream(502, format!("{vendor} sent a malformed stream event: {error}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vendor_messages_are_found() {
        let openai = br#"{"error":{"message":"Incorrect API key provided","type":"invalid_request_error"}}"#;
        assert_eq!(error_message(401, openai, None), "Incorrect API key provided");
        let anthropic = br#"{"type":"error","error":{"type":"rate_limit_error","message":"Slow down"}}"#;
        assert_eq!(error_message(429, anthropic, Some("7")), "Slow down (retry after 7 s)");
        assert_eq!(error_message(500, b"<html>oops</html>", None), "<html>oops</html>");
        assert_eq!(error_message(503, b"", None), "status 503 with no message");
    }
}
