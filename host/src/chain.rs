//! A chain of sanitizers, each with its request, run in order on a whole text or on a
//! stream: what one passes on, the next sees.

use std::sync::Arc;

use crate::runtime::{CallError, Finding, SanitizeRequest, SanitizerPlugin, SanitizerSession, StreamEnd, Verdict};

/// Sanitizers in order.
#[derive(Clone, Default)]
pub struct SanitizerChain {
    links: Vec<(Arc<SanitizerPlugin>, SanitizeRequest)>,
}

/// What a chain made of a whole text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sanitized {
    /// The text; empty when a sanitizer blocked it.
    pub text: String,
    /// What was changed or noticed, and why.
    pub findings: Vec<Finding>,
    /// Why the text must not be used at all, if a sanitizer said so.
    pub blocked: Option<String>,
}

impl SanitizerChain {
    /// A chain of these sanitizers with their requests.
    pub fn new(links: Vec<(Arc<SanitizerPlugin>, SanitizeRequest)>) -> Self {
        Self { links }
    }

    /// `name@version` of each sanitizer, in order.
    pub fn versions(&self) -> Vec<String> {
        self.links
            .iter()
            .map(|(plugin, _)| format!("{}@{}", plugin.manifest().name, plugin.manifest().version))
            .collect()
    }

    /// Runs every sanitizer on `text`, stopping at the first that blocks it.
    ///
    /// # Errors
    ///
    /// When a sanitizer fails.
    pub async fn sanitize(&self, text: &str) -> Result<Sanitized, CallError> {
        let mut findings = Vec::new();
        let mut text = text.to_owned();
        for (plugin, request) in &self.links {
            match plugin.sanitize(&text, request).await? {
                Verdict::Pass => {}
                Verdict::Rewritten { text: rewritten, findings: more } => {
                    text = rewritten;
                    findings.extend(more);
                }
                Verdict::Blocked(reason) => {
                    return Ok(Sanitized { text: String::new(), findings, blocked: Some(reason) });
                }
            }
        }
        Ok(Sanitized { text, findings, blocked: None })
    }

    /// Starts sanitizing a stream.
    ///
    /// # Errors
    ///
    /// When a sanitizer cannot start.
    pub async fn stream(&self) -> Result<ChainStream, CallError> {
        let mut sessions = Vec::with_capacity(self.links.len());
        for (plugin, request) in &self.links {
            sessions.push(plugin.session(request).await?);
        }
        Ok(ChainStream { sessions })
    }
}

/// A stream passing through a chain.
pub struct ChainStream {
    sessions: Vec<SanitizerSession>,
}

impl ChainStream {
    /// Feeds a piece of text; returns the sanitized text that is final so far.
    ///
    /// # Errors
    ///
    /// When a sanitizer fails.
    pub async fn push(&mut self, chunk: &str) -> Result<String, CallError> {
        let mut text = chunk.to_owned();
        for session in &mut self.sessions {
            if text.is_empty() {
                break;
            }
            text = session.push(&text).await?;
        }
        Ok(text)
    }

    /// Ends the stream: the held-back tail, and every finding. Each sanitizer's tail
    /// passes through the ones after it.
    ///
    /// # Errors
    ///
    /// When a sanitizer fails.
    pub async fn finish(self) -> Result<StreamEnd, CallError> {
        let mut end = StreamEnd { tail: String::new(), findings: Vec::new(), blocked: None };
        let mut carried = String::new();
        for mut session in self.sessions {
            let mut tail = if carried.is_empty() { String::new() } else { session.push(&carried).await? };
            let finished = session.finish().await?;
            tail.push_str(&finished.tail);
            carried = tail;
            end.findings.extend(finished.findings);
            end.blocked = end.blocked.or(finished.blocked);
        }
        end.tail = carried;
        Ok(end)
    }
}
