//! Every piece of generated code passes the output sanitizers — `html` (in the stack's
//! mode), then `secrets` — while it streams, and once more as the finished page. The
//! user never sees a byte that did not pass both.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::stack::Stack;
use crate::runtime::{
    CallError, Finding, SanitizeRequest, SanitizerPlugin, SanitizerSession, Stage, StreamEnd, Verdict,
};

/// The sanitizers every generated page passes.
#[derive(Clone)]
pub struct OutputSanitizers {
    html: Arc<SanitizerPlugin>,
    secrets: Arc<SanitizerPlugin>,
}

/// What sanitizing a whole page gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SanitizedPage {
    /// The page; empty when a sanitizer blocked it.
    pub code: String,
    /// What was removed or changed, and why.
    pub findings: Vec<Finding>,
    /// Why the page must not be shown at all, if a sanitizer said so.
    pub blocked: Option<String>,
}

impl OutputSanitizers {
    /// The pair, from the loaded sanitizers.
    pub fn new(html: Arc<SanitizerPlugin>, secrets: Arc<SanitizerPlugin>) -> Self {
        Self { html, secrets }
    }

    /// `name@version` of each sanitizer, for `x-airlock-plugins`.
    pub fn versions(&self) -> Vec<String> {
        [&self.html, &self.secrets]
            .iter()
            .map(|plugin| format!("{}@{}", plugin.manifest().name, plugin.manifest().version))
            .collect()
    }

    /// Starts sanitizing a stream of generated text.
    ///
    /// # Errors
    ///
    /// When a sanitizer cannot start.
    pub async fn stream(&self, stack: Stack) -> Result<OutputStream, CallError> {
        let html = self.html.session(&html_request(stack)).await?;
        let secrets = self.secrets.session(&secrets_request()).await?;
        Ok(OutputStream { html, secrets })
    }

    /// Sanitizes a finished page.
    ///
    /// # Errors
    ///
    /// When a sanitizer fails.
    pub async fn page(&self, code: &str, stack: Stack) -> Result<SanitizedPage, CallError> {
        let mut findings = Vec::new();
        let mut text = code.to_owned();
        for (plugin, request) in [(&self.html, html_request(stack)), (&self.secrets, secrets_request())] {
            match plugin.sanitize(&text, &request).await? {
                Verdict::Pass => {}
                Verdict::Rewritten { text: rewritten, findings: more } => {
                    text = rewritten;
                    findings.extend(more);
                }
                Verdict::Blocked(reason) => {
                    return Ok(SanitizedPage { code: String::new(), findings, blocked: Some(reason) });
                }
            }
        }
        Ok(SanitizedPage { code: text, findings, blocked: None })
    }
}

fn html_request(stack: Stack) -> SanitizeRequest {
    let options = BTreeMap::from([("mode".to_owned(), stack.html_mode().to_owned())]);
    SanitizeRequest { stage: Stage::Output, content_type: "text/html".into(), options }
}

fn secrets_request() -> SanitizeRequest {
    SanitizeRequest { stage: Stage::Output, content_type: "text/html".into(), options: BTreeMap::new() }
}

/// Generated text being sanitized as it streams.
pub struct OutputStream {
    html: SanitizerSession,
    secrets: SanitizerSession,
}

impl OutputStream {
    /// Feeds a piece of generated text; returns the sanitized text that is final so far.
    ///
    /// # Errors
    ///
    /// When a sanitizer fails.
    pub async fn push(&mut self, chunk: &str) -> Result<String, CallError> {
        let html = self.html.push(chunk).await?;
        if html.is_empty() {
            return Ok(html);
        }
        self.secrets.push(&html).await
    }

    /// Ends the stream: the held-back tail, and every finding.
    ///
    /// # Errors
    ///
    /// When a sanitizer fails.
    pub async fn finish(mut self) -> Result<StreamEnd, CallError> {
        let html = self.html.finish().await?;
        let mut tail = self.secrets.push(&html.tail).await?;
        let secrets = self.secrets.finish().await?;
        tail.push_str(&secrets.tail);
        let mut findings = html.findings;
        findings.extend(secrets.findings);
        Ok(StreamEnd { tail, findings, blocked: html.blocked.or(secrets.blocked) })
    }
}
